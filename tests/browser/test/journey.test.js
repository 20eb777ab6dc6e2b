// The whole journey through the pages in Chromium, with a real SMTP server catching the
// mails: register; a mail scanner fetches the verification link (HEAD, GET) before the
// person verifies with one click; sign in; /account lists two sessions and signs the other
// out (its access token gets 401 at once); change password; forgot password and the reset
// link from the mail: the new password works and the old does not; an `rd` to a foreign
// site is ignored, one to an allowed origin is followed. Every page is checked with axe-core
// and for console errors and CSP violations.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";

import { missingTool } from "./support/env.js";
import { Authgate, PASSWORD, uniqueEmail } from "./support/authgate.js";
import { SmtpServer, linkIn } from "./support/smtp.js";
import { Browser, assertAccessible } from "./support/browser.js";
import { freePort } from "./support/net.js";

const skip = missingTool() ?? false;
const NEW_PASSWORD = "Difference9Engine";
const RESET_PASSWORD = "Babbage1Difference";

let smtp, authgate, browser, app;

before(async () => {
  if (skip) return;
  smtp = await SmtpServer.start();
  app = await startApp();
  authgate = await Authgate.start({
    AUTHGATE_SMTP_URL: smtp.url,
    AUTHGATE_MAIL_FROM: "Pages test <no-reply@example.com>",
    AUTHGATE_ALLOWED_ORIGINS: app.origin,
  });
  browser = await Browser.launch();
});

after(async () => {
  await browser?.close();
  await authgate?.stop();
  smtp?.stop();
  app?.server.close();
});

/** An "app" on another origin, which an allowed `rd` may send people to. */
async function startApp() {
  const port = await freePort();
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!DOCTYPE html><html lang="en"><title>App</title><h1>The app at ${req.url}</h1></html>`);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${port}` };
}

/** Opens `path`, checks accessibility, returns the response. */
async function open(page, path, label) {
  const res = await page.goto(`${authgate.url}${path}`);
  await assertAccessible(page, label);
  return res;
}

async function signIn(page, email, password, path = "/login") {
  await open(page, path, "sign-in");
  await page.getByLabel("Email or username").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
}

test("the whole journey through the pages", { skip }, async () => {
  const page = await browser.newPage();
  const email = uniqueEmail("journey");

  // Register.
  await open(page, "/register", "sign-up");
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${authgate.url}/account`);
  await assertAccessible(page, "account after sign-up");
  assert.match(await page.textContent("main"), /not verified/);

  // A mail scanner opens the verification link first: HEAD, then GET. Neither spends it.
  const verifyMail = await smtp.next(email, "Confirm your email address");
  assert.match(verifyMail.text, /valid for 24 hours/);
  const link = linkIn(verifyMail, `${authgate.url}/verify-email?token=`);
  for (const method of ["HEAD", "GET"]) {
    const res = await fetch(link, { method, headers: { "user-agent": "LinkScanner/1.0" } });
    assert.equal(res.status, 200, `${method} ${link}`);
  }
  const token = new URL(link).searchParams.get("token");
  for (const method of ["HEAD", "GET"]) {
    // The API's own link too, for API users: HEAD spends nothing.
    if (method === "GET") break;
    const res = await fetch(`${authgate.url}/api/auth/verify-email/${token}`, { method });
    assert.equal(res.status, 200, `${method} of the API link`);
  }
  await open(page, "/account", "account, still unverified");
  assert.match(await page.textContent("main"), /not verified/, "the scanner verified the address");

  // The person verifies with one click.
  await open(page, new URL(link).pathname + new URL(link).search, "verify-email");
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await page.waitForLoadState();
  await assertAccessible(page, "email verified");
  assert.equal(await page.textContent("h1"), "Email address verified");
  assert.match(await page.textContent("main"), /your email address is confirmed/);
  // Clicking the link again is not an error: it says the address is verified.
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await page.waitForLoadState();
  assert.match(await page.textContent("main"), /already confirmed/);
  const again = await fetch(`${authgate.url}/api/auth/verify-email/${token}`);
  assert.equal(again.status, 200);
  assert.equal((await again.json()).message, "Email is already verified");

  // Sign out, then sign in again (the pages' session is a real one).
  await open(page, "/logout", "sign-out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login\?notice=signed-out$/);
  assert.match(await page.textContent("main"), /You are signed out/);
  await signIn(page, email, PASSWORD);
  await page.waitForURL(`${authgate.url}/account`);
  assert.match(await page.textContent("main"), /verified/);

  // A second device (the API, as a phone app would), then /account lists two sessions.
  const phone = await authgate.api("POST", "/login", {
    body: { email, password: PASSWORD },
    headers: { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1" },
  });
  assert.equal(phone.status, 200);
  assert.equal((await authgate.api("GET", "/me", { token: phone.body.accessToken })).status, 200);
  await open(page, "/account", "account with two sessions");
  const devices = page.locator(".sessions li");
  assert.equal(await devices.count(), 2);
  assert.match(await devices.filter({ hasText: "this device" }).textContent(), /Chrome on Linux/);
  const other = devices.filter({ hasText: "Safari on iOS" });
  await other.getByRole("button", { name: /^Sign out/ }).click();
  await page.waitForURL(/notice=session-ended/);
  assert.equal(await page.locator(".sessions li").count(), 1);
  const dead = await authgate.api("GET", "/me", { token: phone.body.accessToken });
  assert.equal(dead.status, 401, "the signed-out device's access token still works");

  // Change the password: every device is signed out, this one too.
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.waitForURL(/\/login\?notice=password-changed$/);
  await assertAccessible(page, "sign-in after a password change");
  const notice = await smtp.next(email, "Your password was changed");
  const forgotLink = linkIn(notice, `${authgate.url}/forgot-password`);
  assert.equal((await fetch(forgotLink)).status, 200, "the notice's link leads to a real page");

  // Forgot password: the reset link from the mail.
  await page.goto(forgotLink);
  await assertAccessible(page, "forgot-password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.waitForURL(/\/forgot-password\?sent=1$/);
  await assertAccessible(page, "reset link sent");
  assert.match(await page.textContent("main"), /for 1 hour/);
  const resetMail = await smtp.next(email, "Reset your password");
  assert.match(resetMail.text, /valid for 1 hour/);
  const resetLink = linkIn(resetMail, `${authgate.url}/reset-password?token=`);
  for (const method of ["HEAD", "GET"]) {
    assert.equal((await fetch(resetLink, { method })).status, 200, `scanner ${method}`);
  }
  await page.goto(resetLink);
  await assertAccessible(page, "reset-password");
  await page.getByLabel("New password").fill(RESET_PASSWORD);
  await page.getByRole("button", { name: "Set the new password" }).click();
  await page.waitForURL(/\/login\?notice=password-reset$/);

  // The old password does not work; the new one does.
  await signIn(page, email, NEW_PASSWORD, "/login");
  assert.equal(new URL(page.url()).pathname, "/login");
  await assertAccessible(page, "sign-in refused");
  assert.match(await page.textContent("[role=alert]"), /Invalid email or password/);
  await page.getByLabel("Password", { exact: true }).fill(RESET_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${authgate.url}/account`);

  // `rd` to a foreign site is ignored; to an allowed origin it is followed.
  await open(page, "/logout", "sign-out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/notice=signed-out/);
  await signIn(page, email, RESET_PASSWORD, "/login?rd=https%3A%2F%2Fevil.example%2Fsteal");
  await page.waitForURL(`${authgate.url}/account`);
  await open(page, "/logout", "sign-out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/notice=signed-out/);
  const rd = encodeURIComponent(`${app.origin}/welcome?from=login`);
  await signIn(page, email, RESET_PASSWORD, `/login?rd=${rd}`);
  await page.waitForURL(`${app.origin}/welcome?from=login`);
  assert.equal(await page.textContent("h1"), "The app at /welcome?from=login");

  browser.assertNoProblems();
  await page.close();
});
