// Every page, in its ordinary and its error states: axe-core finds nothing serious or
// critical (light and dark), the browser logs no error and no CSP violation, the page loads
// nothing but itself and the one cached stylesheet, it reads on a phone, and screenshots in
// light and dark land in tests/browser/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { missingTool } from "./support/env.js";
import { Authgate, PASSWORD, uniqueEmail } from "./support/authgate.js";
import { SmtpServer, linkIn } from "./support/smtp.js";
import { Browser, assertAccessible, screenshots } from "./support/browser.js";

const skip = missingTool() ?? false;
let smtp, authgate, browser;

before(async () => {
  if (skip) return;
  smtp = await SmtpServer.start();
  authgate = await Authgate.start({
    AUTHGATE_SMTP_URL: smtp.url,
    AUTHGATE_BRAND_NAME: "Example Corp",
  });
  browser = await Browser.launch();
});

after(async () => {
  await browser?.close();
  await authgate?.stop();
  smtp?.stop();
});

/** Loads `path` and checks what it fetched: the page and its stylesheet, nothing else. */
async function load(page, path) {
  const fetched = [];
  const listener = (req) => fetched.push(req);
  page.on("request", listener);
  const res = await page.goto(`${authgate.url}${path}`);
  page.off("request", listener);
  await checkLoaded(page, res, fetched);
  return res;
}

async function checkLoaded(page, res, fetched) {
  const csp = res.headers()["content-security-policy"];
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  const kinds = fetched
    .filter((r) => !r.url().endsWith("/favicon.ico"))
    .map((r) => r.resourceType());
  assert.deepEqual(kinds, ["document", "stylesheet"], `requests of ${page.url()}`);
  const sheet = await fetched.find((r) => r.resourceType() === "stylesheet").response();
  assert.equal(sheet.headers()["cache-control"], "public, max-age=31536000, immutable");
}

/** The checks of every page state, then its screenshots as `name`. */
async function check(page, name) {
  await assertAccessible(page, name);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > innerWidth);
  assert.equal(overflow, false, `${name} scrolls sideways`);
  await screenshots(page, name);
}

test("every page is accessible, self-contained and screenshotted", { skip }, async () => {
  const page = await browser.newPage();
  const email = uniqueEmail("pages");

  await load(page, "/login");
  await check(page, "login");
  await page.getByLabel("Email or username").fill("nobody@example.com");
  await page.getByLabel("Password", { exact: true }).fill("Wrong7Password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
  assert.match(await page.textContent("[role=alert]"), /Invalid email or password/);
  await check(page, "login-refused");

  await load(page, "/register");
  await check(page, "register");
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForLoadState();
  // The API's messages, next to their fields, linked with aria-describedby.
  const password = page.getByLabel("Password");
  assert.equal(await password.getAttribute("aria-invalid"), "true");
  const described = (await password.getAttribute("aria-describedby")).split(" ");
  assert.ok(described.includes("password-error"), described.join(" "));
  assert.match(await page.textContent("#password-error"), /Password must be at least 8 characters/);
  assert.match(await page.textContent("#email-error"), /Email must be a valid email address/);
  assert.equal(await page.getByLabel("Email").inputValue(), "not-an-email", "typed value kept");
  assert.equal(await password.inputValue(), "", "a password is never sent back");
  await check(page, "register-refused");

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/account$/);
  await authgate.api("POST", "/login", {
    body: { email, password: PASSWORD },
    headers: { "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0" },
  });
  await load(page, "/account");
  await check(page, "account");

  const verifyLink = linkIn(await smtp.next(email, "Confirm your email address"), `${authgate.url}/verify-email?token=`);
  await load(page, new URL(verifyLink).pathname + new URL(verifyLink).search);
  await check(page, "verify-email");
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await page.waitForLoadState();
  await check(page, "email-verified");

  await load(page, "/verify-email?token=expired-or-made-up");
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await page.waitForLoadState();
  assert.equal(await page.textContent("h1"), "This link no longer works");
  await check(page, "verify-email-dead-link");

  await load(page, "/logout");
  await check(page, "logout");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/notice=signed-out/);
  await check(page, "signed-out");

  await load(page, "/forgot-password");
  await check(page, "forgot-password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.waitForURL(/sent=1/);
  await check(page, "forgot-password-sent");

  const resetLink = linkIn(await smtp.next(email, "Reset your password"), `${authgate.url}/reset-password?token=`);
  await load(page, new URL(resetLink).pathname + new URL(resetLink).search);
  await check(page, "reset-password");
  await page.getByLabel("New password").fill("password");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await page.waitForLoadState();
  assert.match(await page.textContent("#newPassword-error"), /New password/);
  await check(page, "reset-password-refused");

  await page.setViewportSize({ width: 375, height: 740 });
  await load(page, "/login");
  await check(page, "login-phone");

  browser.assertNoProblems();
  await page.close();
});
