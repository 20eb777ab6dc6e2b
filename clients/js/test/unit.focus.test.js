// Unit test of autoRefresh's "tab visible again after sleep" path: a stand-in `document`
// (headless Chromium keeps every tab visible, so the browser tests cannot hide one) and a
// clock moved past the token's expiry, as after a laptop sleeps.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { createClient } from "../dist/index.js";
import { json, scripted } from "./support/scripted.js";

const realNow = Date.now;
afterEach(() => {
  Date.now = realNow;
  delete globalThis.document;
});

function setup(autoRefresh) {
  const doc = Object.assign(new EventTarget(), { visibilityState: "visible" });
  globalThis.document = doc;
  const fake = scripted({ app: () => json(200, {}) });
  const client = createClient({ url: "http://authgate.test", fetch: fake.fetch, refreshToken: "memory", autoRefresh });
  const show = async (state) => {
    doc.visibilityState = state;
    doc.dispatchEvent(new Event("visibilitychange"));
    await new Promise((ok) => setTimeout(ok, 20));
  };
  return { fake, client, show };
}

test("with autoRefresh, a tab shown again after its token expired refreshes at once", async () => {
  const { fake, client, show } = setup(true);
  await client.login({ email: "a@b.c", password: "pw" });
  await show("hidden");
  await show("visible");
  assert.equal(fake.refreshes, 0, "a token with 15 minutes left is kept");
  Date.now = () => realNow() + 16 * 60e3; // woke up 16 minutes later
  await show("hidden");
  assert.equal(fake.refreshes, 0, "hiding refreshes nothing");
  await show("visible");
  assert.equal(fake.refreshes, 1);
  assert.equal(client.accessToken, "access-2");
  client.close();
});

test("without autoRefresh, showing the tab refreshes nothing", async () => {
  const { fake, client, show } = setup(false);
  await client.login({ email: "a@b.c", password: "pw" });
  Date.now = () => realNow() + 16 * 60e3;
  await show("visible");
  assert.equal(fake.refreshes, 0);
  client.close();
});

test("close() stops listening for visibility", async () => {
  const { fake, client, show } = setup(true);
  await client.login({ email: "a@b.c", password: "pw" });
  client.close();
  Date.now = () => realNow() + 16 * 60e3;
  await show("visible");
  assert.equal(fake.refreshes, 0);
});
