// Unit tests of refresh-on-401 in one client (memory mode, as in Node), on a scripted fetch.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "../dist/index.js";
import { json, scripted } from "./support/scripted.js";

const APP = "http://app.test/data";

function setup(app, options = {}) {
  const fake = scripted({ app, ...options });
  const client = createClient({ url: "http://authgate.test", fetch: fake.fetch, refreshToken: "memory" });
  const events = [];
  client.onAuthStateChange((event, token) => events.push([event, token]));
  return { fake, client, events };
}

/** An app that accepts only authgate's current access token. */
const strictApp = (auth, fake) =>
  auth === `Bearer ${fake.current}` ? json(200, { ok: true }) : json(401, { code: "unauthenticated" });

test("client.fetch adds the bearer token of the session", async () => {
  const { fake, client } = setup(strictApp);
  await client.login({ email: "a@b.c", password: "pw" });
  const res = await client.fetch(APP);
  assert.equal(res.status, 200);
  assert.equal(fake.calls.at(-1).auth, "Bearer access-1");
  assert.equal(fake.refreshes, 0);
});

test("on a 401 client.fetch refreshes once, retries once with the new token, and succeeds", async () => {
  const { fake, client, events } = setup(strictApp);
  await client.login({ email: "a@b.c", password: "pw" });
  // Rotate behind the client's back: the token it holds is stale now.
  await fake.fetch("http://authgate.test/api/auth/refresh", { method: "POST" });
  fake.calls.length = 0;
  const res = await client.fetch(APP);
  assert.equal(res.status, 200);
  assert.deepEqual(
    fake.calls.map((c) => [c.path, c.auth]),
    [
      [APP, "Bearer access-1"],
      ["/refresh", null],
      [APP, "Bearer access-3"],
    ],
  );
  assert.deepEqual(events, [
    ["SIGNED_IN", "access-1"],
    ["TOKEN_REFRESHED", "access-3"],
  ]);
});

test("an app that answers 401 every time gets one refresh and one retry, never a loop", async () => {
  const { fake, client } = setup(() => json(401, { code: "unauthenticated" }));
  await client.login({ email: "a@b.c", password: "pw" });
  const res = await client.fetch(APP);
  assert.equal(res.status, 401);
  assert.equal(fake.calls.filter((c) => c.path === APP).length, 2);
  assert.equal(fake.refreshes, 1);
});

test("concurrent 401s in one client share one refresh", async () => {
  const { fake, client } = setup(strictApp, { refreshDelay: 30 });
  await client.login({ email: "a@b.c", password: "pw" });
  await fake.fetch("http://authgate.test/api/auth/refresh", { method: "POST" }); // client's token is stale
  const before = fake.refreshes;
  const answers = await Promise.all(Array.from({ length: 5 }, () => client.fetch(APP)));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(fake.refreshes - before, 1);
});

test("in memory mode the refresh token travels in the body and the rotated one is kept", async () => {
  const { fake, client } = setup(strictApp);
  await client.login({ email: "a@b.c", password: "pw" });
  await client.refresh();
  await client.refresh();
  const bodies = fake.calls.filter((c) => c.path === "/refresh").map((c) => c.body);
  assert.deepEqual(bodies, [{ refreshToken: "refresh-1" }, { refreshToken: "refresh-2" }]);
  assert.ok(fake.calls.every((c) => c.credentials !== "include"));
});

test("a refused refresh signs out: the token is dropped and later 401s send no refresh", async () => {
  const { fake, client, events } = setup(strictApp);
  await client.login({ email: "a@b.c", password: "pw" });
  await fake.fetch("http://authgate.test/api/auth/refresh", { method: "POST" });
  fake.refuseRefresh(401, { code: "refresh_token_reused", message: "reused" });
  const res = await client.fetch(APP);
  assert.equal(res.status, 401);
  assert.equal(client.accessToken, null);
  assert.deepEqual(events.at(-1), ["SIGNED_OUT", null]);
  const refreshes = fake.refreshes;
  assert.equal((await client.fetch(APP)).status, 401);
  assert.equal(fake.refreshes, refreshes);
  assert.equal(fake.calls.at(-1).auth, null);
});

test("a refresh refused for another reason than 401 keeps the session and reports the error", async () => {
  const { fake, client } = setup(strictApp);
  await client.login({ email: "a@b.c", password: "pw" });
  fake.refuseRefresh(503, { code: "service_unavailable", message: "store down" });
  const error = await client.refresh().catch((e) => e);
  assert.equal(error.status, 503);
  assert.equal(client.accessToken, "access-1");
});

test("a client that never signed in sends no refresh on a 401 in memory mode", async () => {
  const { fake, client } = setup(strictApp);
  assert.equal((await client.fetch(APP)).status, 401);
  assert.equal(fake.refreshes, 0);
});

test("a Request input is sent again intact on the retry", async () => {
  const fake = scripted({ app: strictApp });
  const bodies = [];
  const fetch = async (input, init) => {
    if (input instanceof Request) bodies.push(await input.text());
    return fake.fetch(input, init);
  };
  const client = createClient({ url: "http://authgate.test", fetch, refreshToken: "memory" });
  await client.login({ email: "a@b.c", password: "pw" });
  await fake.fetch("http://authgate.test/api/auth/refresh", { method: "POST" });
  const res = await client.fetch(new Request(APP, { method: "POST", body: "payload" }));
  assert.equal(res.status, 200);
  assert.deepEqual(bodies, ["payload", "payload"]);
});

test("logout resolves when there was no session, and reports no sign-out that did not happen", async () => {
  const { client, events } = setup(strictApp);
  await client.logout();
  assert.deepEqual(events, []);
  assert.equal(client.accessToken, null);
});

test("a failed restore (no session yet) reports no SIGNED_OUT", async () => {
  const { fake, client, events } = setup(strictApp);
  fake.refuseRefresh(401);
  const error = await client.refresh().catch((e) => e);
  assert.equal(error.code, "invalid_refresh_token");
  assert.deepEqual(events, []);
});
