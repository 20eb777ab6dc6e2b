// Keyboard only: the sign-in form is reached with Tab, each field shows where the focus is,
// and Enter signs in.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { missingTool } from "./support/env.js";
import { Authgate, PASSWORD, uniqueEmail } from "./support/authgate.js";
import { Browser } from "./support/browser.js";

const skip = missingTool() ?? false;
let authgate, browser;

before(async () => {
  if (skip) return;
  authgate = await Authgate.start();
  browser = await Browser.launch();
});

after(async () => {
  await browser?.close();
  await authgate?.stop();
});

/** The id of the focused element and whether it shows a focus outline. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { id: el.id || el.textContent.trim(), outline: style.outlineStyle !== "none" };
  });
}

test("a person signs in with Tab and Enter alone", { skip }, async () => {
  const email = uniqueEmail("keys");
  const registered = await authgate.api("POST", "/register", {
    body: { email, password: PASSWORD, name: "Grace Hopper" },
  });
  assert.equal(registered.status, 201);
  const page = await browser.newPage();
  await page.goto(`${authgate.url}/login`);

  await page.keyboard.press("Tab");
  assert.deepEqual(await focused(page), { id: "identifier", outline: true });
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  assert.deepEqual(await focused(page), { id: "password", outline: true });
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Tab");
  assert.deepEqual(await focused(page), { id: "Sign in", outline: true });
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${authgate.url}/account`);
  assert.match(await page.textContent("main"), /Grace Hopper/);

  browser.assertNoProblems();
  await page.close();
});
