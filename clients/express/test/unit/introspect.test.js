// Introspect mode against a stand-in issuer: what is sent, the cache, and failing closed
// on every answer that is not a clear yes or no.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";

import express5 from "express5";

import { authgate } from "../../src/index.js";
import { startApp } from "../support/express-app.js";
import { newKey, startFakeIssuer } from "../support/fake-issuer.js";

const SECRET = "introspection-secret-of-at-least-32-bytes";
const issuer = await startFakeIssuer();
let key;
before(async () => {
  key = await newKey("k1");
});
after(() => issuer.close());
beforeEach(() => {
  issuer.keys = [key];
  issuer.requests.introspect = 0;
  issuer.introspect = (body) => {
    const token = new URLSearchParams(body).get("token");
    return { status: 200, body: activeAnswer(token) };
  };
});

function activeAnswer() {
  return { active: true, sub: "user-1", sid: "session-1", role: "editor", email: "ada@example.com", username: "ada" };
}

function introspecting(extra = {}) {
  return authgate({ url: issuer.url, revocation: "introspect", introspectionSecret: SECRET, onError: () => {}, ...extra });
}

async function refusal(promise) {
  const error = await promise.then(
    () => assert.fail("expected a refusal"),
    (e) => e,
  );
  return { status: error.status, code: error.code };
}

test("the token is posted form-encoded with the secret as bearer, and the answer fills req.auth", async () => {
  let seen;
  issuer.introspect = (body, headers) => {
    seen = { body, headers };
    return { status: 200, body: activeAnswer() };
  };
  const token = await issuer.sign(key);
  const who = await introspecting().verify(token);
  assert.equal(seen.headers.authorization, `Bearer ${SECRET}`);
  assert.equal(seen.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(new URLSearchParams(seen.body).get("token"), token);
  assert.deepEqual(
    { userId: who.userId, sessionId: who.sessionId, role: who.role, email: who.email, username: who.username },
    { userId: "user-1", sessionId: "session-1", role: "editor", email: "ada@example.com", username: "ada" },
  );
});

test("an inactive answer is a 401", async () => {
  issuer.introspect = () => ({ status: 200, body: { active: false } });
  assert.deepEqual(await refusal(introspecting().verify(await issuer.sign(key))), { status: 401, code: "unauthenticated" });
});

test("an answer for another session is a 401", async () => {
  issuer.introspect = () => ({ status: 200, body: { ...activeAnswer(), sid: "session-2" } });
  assert.deepEqual(await refusal(introspecting().verify(await issuer.sign(key))), { status: 401, code: "unauthenticated" });
});

test("a forged token is refused without asking authgate", async () => {
  const stranger = await newKey("forged");
  await refusal(introspecting().verify(await issuer.sign(stranger)));
  assert.equal(issuer.requests.introspect, 0);
});

test("without cacheMs every request asks authgate", async () => {
  const auth = introspecting();
  const token = await issuer.sign(key);
  for (let i = 0; i < 3; i++) await auth.verify(token);
  assert.equal(issuer.requests.introspect, 3);
});

test("with cacheMs an answer is reused, concurrent calls share one request, and it ends", async () => {
  const auth = introspecting({ cacheMs: 300 });
  const token = await issuer.sign(key);
  await Promise.all([auth.verify(token), auth.verify(token), auth.verify(token)]);
  await auth.verify(token);
  assert.equal(issuer.requests.introspect, 1);
  await new Promise((ok) => setTimeout(ok, 350));
  issuer.introspect = () => ({ status: 200, body: { active: false } });
  assert.deepEqual(await refusal(auth.verify(token)), { status: 401, code: "unauthenticated" });
  assert.equal(issuer.requests.introspect, 2);
});

test("a cached answer never outlives the token", async () => {
  // With 5 s of clock tolerance the token still verifies locally just after its exp, so only
  // the cache's own end at exp makes the second call ask again.
  const auth = introspecting({ cacheMs: 60_000, clockToleranceSec: 5 });
  const exp = Math.ceil((Date.now() + 500) / 1000); // at least 0.5 s ahead
  const token = await issuer.sign(key, { exp });
  await auth.verify(token);
  await auth.verify(token);
  assert.equal(issuer.requests.introspect, 1, "cached before exp");
  await new Promise((ok) => setTimeout(ok, exp * 1000 + 50 - Date.now()));
  await auth.verify(token);
  assert.equal(issuer.requests.introspect, 2, "the entry ended with the token");
});

test("a failed introspection is not cached", async () => {
  const auth = introspecting({ cacheMs: 60_000 });
  const token = await issuer.sign(key);
  issuer.introspect = () => ({ status: 500, body: { message: "boom", code: "internal_error" } });
  assert.deepEqual(await refusal(auth.verify(token)), { status: 503, code: "service_unavailable" });
  issuer.introspect = () => ({ status: 200, body: activeAnswer() });
  assert.equal((await auth.verify(token)).userId, "user-1");
});

test("a wrong secret (401 from authgate) is a 503 that tells the operator why", async () => {
  issuer.introspect = () => ({ status: 401, body: { message: "no", code: "unauthenticated" } });
  const app = await startApp(express5, { url: issuer.url, revocation: "introspect", introspectionSecret: SECRET });
  try {
    const token = await issuer.sign(key);
    const res = await app.get("/me", token);
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { message: "The authentication service is unavailable", code: "service_unavailable" });
    assert.equal(res.headers.get("www-authenticate"), null);
    assert.equal(app.errors.length, 1);
    assert.match(app.errors[0].cause.message, /AUTHGATE_INTROSPECTION_SECRETS/);
    assert.equal(app.errors[0].cause.message.includes(token), false, "never the token");
  } finally {
    await app.close();
  }
});

test("an answer that is not JSON, or has no active boolean, is a 503", async () => {
  const token = await issuer.sign(key);
  issuer.introspect = () => ({ status: 200, body: "<html>proxy error</html>" });
  assert.deepEqual(await refusal(introspecting().verify(token)), { status: 503, code: "service_unavailable" });
  issuer.introspect = () => ({ status: 200, body: { active: "yes" } });
  assert.deepEqual(await refusal(introspecting().verify(token)), { status: 503, code: "service_unavailable" });
});

test("an introspection that does not answer in time is a 503", async () => {
  const auth = introspecting({ timeoutMs: 200 });
  const token = await issuer.sign(key);
  await auth.verify(token); // JWKS cached
  issuer.hang = true;
  try {
    assert.deepEqual(await refusal(auth.verify(token)), { status: 503, code: "service_unavailable" });
  } finally {
    issuer.hang = false;
  }
});
