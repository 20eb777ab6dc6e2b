// JWKS handling against a stand-in issuer: caching, kid refetch and its rate limit,
// algorithms from the JWKS only, and failing closed when the JWKS cannot be had.
import assert from "node:assert/strict";
import { after, beforeEach, test } from "node:test";

import { authgate } from "../../src/index.js";
import { newKey, startFakeIssuer } from "../support/fake-issuer.js";

const issuer = await startFakeIssuer();
after(() => issuer.close());
beforeEach(() => {
  issuer.keys = [];
  issuer.jwksStatus = 200;
  issuer.hang = false;
  issuer.requests.jwks = 0;
});

async function refusal(promise) {
  const error = await promise.then(
    () => assert.fail("expected a refusal"),
    (e) => e,
  );
  return { status: error.status, code: error.code };
}

test("the JWKS is fetched once and then served from the cache", async () => {
  const key = await newKey("k1");
  issuer.keys = [key];
  const auth = authgate({ url: issuer.url });
  for (let i = 0; i < 3; i++) await auth.verify(await issuer.sign(key));
  assert.equal(issuer.requests.jwks, 1);
});

test("an unknown kid fetches the JWKS again once and finds a new key", async () => {
  const first = await newKey("k1");
  const second = await newKey("k2");
  issuer.keys = [first];
  const auth = authgate({ url: issuer.url, jwksCooldownMs: 0 });
  await auth.verify(await issuer.sign(first));
  issuer.keys = [first, second];
  const who = await auth.verify(await issuer.sign(second));
  assert.equal(who.userId, "user-1");
  assert.equal(issuer.requests.jwks, 2);
});

test("unknown kids within the cooldown do not fetch the JWKS again", async () => {
  const known = await newKey("k1");
  issuer.keys = [known];
  const auth = authgate({ url: issuer.url, jwksCooldownMs: 60_000 });
  await auth.verify(await issuer.sign(known));
  for (let i = 0; i < 5; i++) {
    const stranger = await newKey(`forged-${i}`);
    assert.deepEqual(await refusal(auth.verify(await issuer.sign(stranger))), { status: 401, code: "unauthenticated" });
  }
  assert.equal(issuer.requests.jwks, 1, "forged kids cost authgate nothing");
});

test("a token whose alg is not the one its JWK declares is refused", async () => {
  const key = await newKey("k1");
  issuer.keys = [key];
  const auth = authgate({ url: issuer.url });
  // jose itself would accept "Ed25519" for an Ed25519 key; the JWKS says "EdDSA".
  assert.deepEqual(await refusal(auth.verify(await issuer.sign(key, {}, "Ed25519"))), { status: 401, code: "unauthenticated" });
  assert.equal((await auth.verify(await issuer.sign(key))).userId, "user-1");
});

test("a JWK that declares no alg verifies nothing", async () => {
  const key = await newKey("k1", {});
  issuer.keys = [key];
  const auth = authgate({ url: issuer.url });
  assert.deepEqual(await refusal(auth.verify(await issuer.sign(key))), { status: 401, code: "unauthenticated" });
});

test("an expired token is refused, within the configured clock tolerance only", async () => {
  const key = await newKey("k1");
  issuer.keys = [key];
  const exp = Math.floor(Date.now() / 1000) - 3;
  assert.equal((await authgate({ url: issuer.url }).verify(await issuer.sign(key, { exp }))).userId, "user-1");
  assert.deepEqual(await refusal(authgate({ url: issuer.url, clockToleranceSec: 0 }).verify(await issuer.sign(key, { exp }))), {
    status: 401,
    code: "unauthenticated",
  });
});

test("a token without sid is not authgate's and is refused", async () => {
  const key = await newKey("k1");
  issuer.keys = [key];
  const auth = authgate({ url: issuer.url });
  assert.deepEqual(await refusal(auth.verify(await issuer.sign(key, { sid: undefined }))), { status: 401, code: "unauthenticated" });
});

test("a JWKS answering 500 fails closed with 503", async () => {
  const key = await newKey("k1");
  issuer.keys = [key];
  issuer.jwksStatus = 500;
  const auth = authgate({ url: issuer.url });
  assert.deepEqual(await refusal(auth.verify(await issuer.sign(key))), { status: 503, code: "service_unavailable" });
});

test("a JWKS that does not answer in time fails closed with 503", async () => {
  const key = await newKey("k1");
  issuer.keys = [key];
  issuer.hang = true;
  const auth = authgate({ url: issuer.url, timeoutMs: 200 });
  assert.deepEqual(await refusal(auth.verify(await issuer.sign(key))), { status: 503, code: "service_unavailable" });
});

test("an unreachable issuer fails closed with 503", async () => {
  const key = await newKey("k1");
  const auth = authgate({ url: "http://127.0.0.1:9" });
  assert.deepEqual(await refusal(auth.verify(await issuer.sign(key))), { status: 503, code: "service_unavailable" });
});
