// Unit tests of the cross-tab hand-over (cookie mode): two clients in one Node process stand
// for two tabs; they talk over Node's real BroadcastChannel and lock through an in-process
// stand-in for navigator.locks. Chromium runs the same code with the real Web Locks API in
// browser.tabs.test.js.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { createClient } from "../dist/index.js";
import { eventually } from "./support/authgate.js";
import { lockManager } from "./support/locks.js";
import { json, scripted } from "./support/scripted.js";

const APP = "http://app.test/data";
const strictApp = (auth, fake) =>
  auth === `Bearer ${fake.current}` ? json(200, { ok: true }) : json(401, { code: "unauthenticated" });

let locks;
let open = [];
let url;
let n = 0;
beforeEach(() => {
  locks = lockManager();
  Object.defineProperty(globalThis, "navigator", { value: { locks }, configurable: true });
  url = `http://authgate-${++n}.test`; // one channel per test
});
afterEach(() => {
  for (const c of open) c.close();
  open = [];
  delete globalThis.navigator;
});

function tab(fake, options = {}) {
  const client = createClient({ url, fetch: fake.fetch, refreshToken: "cookie", ...options });
  const events = [];
  client.onAuthStateChange((event) => events.push(event));
  open.push(client);
  return Object.assign(client, { events });
}

test("in cookie mode no refresh token is kept or sent and requests include credentials", async () => {
  const fake = scripted({ app: strictApp });
  const a = tab(fake);
  const signedIn = await a.login({ email: "a@b.c", password: "pw" });
  assert.equal("refreshToken" in signedIn, false);
  await a.refresh();
  const refresh = fake.calls.find((c) => c.path === "/refresh");
  assert.equal(refresh.body, undefined);
  assert.equal(refresh.credentials, "include");
});

test("three tabs refreshing at once rotate once and all get the new token", async () => {
  const fake = scripted({ app: strictApp, refreshDelay: 50 });
  const tabs = [tab(fake), tab(fake), tab(fake)];
  await tabs[0].login({ email: "a@b.c", password: "pw" });
  await eventually(() => tabs.every((t) => t.accessToken === "access-1"), 2000, "the sign-in to reach every tab");
  await fake.fetch(url + "/api/auth/refresh", { method: "POST" }); // every tab's token is stale now
  const before = fake.refreshes;
  const answers = await Promise.all(tabs.map((t) => t.fetch(APP)));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
  assert.equal(fake.refreshes - before, 1);
  assert.deepEqual(tabs.map((t) => t.accessToken), ["access-3", "access-3", "access-3"]);
  assert.deepEqual(tabs[1].events, ["SIGNED_IN", "TOKEN_REFRESHED"]);
});

test("a tab that sees SIGNED_OUT from another drops its token", async () => {
  const fake = scripted({ app: strictApp });
  const [a, b] = [tab(fake), tab(fake)];
  await a.login({ email: "a@b.c", password: "pw" });
  await eventually(() => b.accessToken, 2000, "the sign-in to reach tab b");
  await a.logout();
  await eventually(() => b.events.includes("SIGNED_OUT"), 2000, "SIGNED_OUT in tab b");
  assert.equal(b.accessToken, null);
});

test("a lock that never comes is given up after the timeout and the tab refreshes anyway", async () => {
  const fake = scripted({ app: strictApp });
  const a = tab(fake, { timeout: 100 });
  await a.login({ email: "a@b.c", password: "pw" });
  const free = locks.hold("authgate " + url + "/api/auth"); // a frozen tab holds the lock
  const tokens = await a.refresh();
  assert.equal(tokens.accessToken, "access-2");
  free();
});

test("a tab that waited for the lock but heard no result rotates itself after the wait", async () => {
  const fake = scripted({ app: strictApp });
  const a = tab(fake, { timeout: 200 });
  await a.login({ email: "a@b.c", password: "pw" });
  const free = locks.hold("authgate " + url + "/api/auth"); // a peer refreshing that then fails
  setTimeout(free, 20);
  const started = Date.now();
  const tokens = await a.refresh();
  assert.equal(tokens.accessToken, "access-2");
  assert.ok(Date.now() - started >= 150, "waited for the holder's broadcast first");
});

test("without navigator.locks the tab refreshes on its own", async () => {
  delete globalThis.navigator;
  const fake = scripted({ app: strictApp });
  const a = tab(fake);
  await a.login({ email: "a@b.c", password: "pw" });
  assert.equal((await a.refresh()).accessToken, "access-2");
});
