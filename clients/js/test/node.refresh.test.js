// Integration tests in Node against the real authgate binary with 1-second access tokens:
// refresh on 401, one refresh for concurrent calls, one retry at most, automatic refresh.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "../dist/index.js";
import { eventually, newAccount, startAuthgate } from "./support/authgate.js";
import { startApp } from "./support/app.js";

let server;
let app;
// Clients signed in before the tests whose access tokens have expired since: one wait for
// all the tests that need one, instead of one wait each.
let expiredClients;
before(async () => {
  // 1 s is the shortest life the config accepts; authgate allows 5 s of clock leeway, so a
  // token is refused 6 to 7 s after it was issued.
  server = await startAuthgate({ AUTHGATE_ACCESS_TOKEN_TTL: "1s" });
  app = await startApp(server.url);
  expiredClients = [];
  for (let i = 0; i < 4; i++) expiredClients.push(await signedIn());
  await expired(expiredClients.at(-1).accessToken);
});
after(async () => {
  await app?.stop();
  await server?.stop();
});

async function signedIn(options = {}) {
  const c = createClient({ url: server.url, ...options });
  const events = [];
  c.onAuthStateChange((event) => events.push(event));
  await c.register(newAccount("refresh"));
  return Object.assign(c, { events });
}

/** Waits until authgate itself refuses `token` (expired). */
function expired(token) {
  return eventually(
    async () => {
      const res = await fetch(server.url + "/api/auth/me", { headers: { Authorization: `Bearer ${token}` } });
      return res.status === 401;
    },
    20_000,
    "the access token to expire",
  );
}

const refreshes = () => server.count("authgate_auth_events_total", { event: "refresh" });
const reuses = () => server.count("authgate_auth_events_total", { event: "refresh_reuse_detected" });

test("an expired access token: the app's 401 triggers one refresh and the retry succeeds", async () => {
  const c = await signedIn();
  assert.equal((await c.fetch(app.url + "/api/data")).status, 200, "a fresh token is accepted");
  const stale = expiredClients.pop();
  const old = stale.accessToken;
  const before = await refreshes();
  app.hits.length = 0;

  const res = await stale.fetch(app.url + "/api/data");
  assert.equal(res.status, 200);
  assert.ok((await res.json()).user.id);
  assert.deepEqual(app.hits, [401, 200], "first call refused, retry accepted");
  assert.equal((await refreshes()) - before, 1);
  assert.notEqual(stale.accessToken, old);
  assert.deepEqual(stale.events, ["SIGNED_IN", "TOKEN_REFRESHED"]);
});

test("concurrent calls with an expired token share one refresh and all succeed", async () => {
  const c = expiredClients.pop();
  const before = await refreshes();
  const answers = await Promise.all(Array.from({ length: 6 }, () => c.fetch(app.url + "/api/data")));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
  assert.equal((await refreshes()) - before, 1);
  assert.equal((await reuses()), 0);
});

test("authgate's own calls refresh on 401 too", async () => {
  const c = expiredClients.pop();
  const before = await refreshes();
  const sessions = await c.sessions();
  assert.equal(sessions.length, 1);
  assert.equal((await refreshes()) - before, 1);
});

test("an API that refuses every token gets exactly one retry after one refresh", async () => {
  const c = await signedIn();
  const before = await refreshes();
  app.hits.length = 0;
  const res = await c.fetch(app.url + "/api/deny");
  assert.equal(res.status, 401);
  assert.deepEqual(app.hits, ["deny", "deny"]);
  assert.equal((await refreshes()) - before, 1);
});

test("a session ended elsewhere: the refresh is refused, the client signs out, the 401 is returned", async () => {
  const c = await signedIn();
  // End the session behind the client's back (a raw logout with its access token).
  await fetch(server.url + "/api/auth/logout", {
    method: "POST",
    headers: { Authorization: `Bearer ${c.accessToken}` },
  });
  const res = await c.fetch(app.url + "/api/data");
  assert.equal(res.status, 401);
  assert.equal(c.accessToken, null);
  assert.deepEqual(c.events, ["SIGNED_IN", "SIGNED_OUT"]);
});

test("autoRefresh renews the access token before it expires, with no call made", async () => {
  const c = await signedIn({ autoRefresh: true });
  const first = c.accessToken;
  try {
    await eventually(() => c.events.includes("TOKEN_REFRESHED"), 10_000, "an automatic refresh");
    assert.notEqual(c.accessToken, first);
    const me = await fetch(server.url + "/api/auth/me", { headers: { Authorization: `Bearer ${c.accessToken}` } });
    assert.equal(me.status, 200);
  } finally {
    c.close();
  }
});

test("without autoRefresh nothing refreshes on its own", async () => {
  const c = expiredClients.pop();
  const first = c.accessToken;
  assert.equal((await fetch(server.url + "/api/auth/me", { headers: { Authorization: `Bearer ${first}` } })).status, 401);
  assert.equal(c.accessToken, first);
  assert.deepEqual(c.events, ["SIGNED_IN"]);
});
