// Unit tests: how answers and failures become AuthgateError.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthgateError, createClient } from "../dist/index.js";
import { json } from "./support/scripted.js";

const client = (fetch, options = {}) =>
  createClient({ url: "http://authgate.test/", fetch, refreshToken: "memory", ...options });

test("an error body becomes an AuthgateError with status, code, message, details and retryAfter", async () => {
  const fetch = async () =>
    json(429, { message: "Too many requests", code: "rate_limited", details: { email: ["slow down"] } }, { "Retry-After": "42" });
  const error = await client(fetch).forgotPassword("ada@example.com").catch((e) => e);
  assert.ok(error instanceof AuthgateError);
  assert.ok(error instanceof Error);
  assert.equal(error.name, "AuthgateError");
  assert.equal(error.status, 429);
  assert.equal(error.code, "rate_limited");
  assert.equal(error.message, "Too many requests");
  assert.deepEqual(error.details, { email: ["slow down"] });
  assert.equal(error.retryAfter, 42);
});

test("an answer that is not JSON still becomes an AuthgateError naming the status", async () => {
  const fetch = async () => new Response("<html>bad gateway</html>", { status: 502 });
  const error = await client(fetch).verifyEmail("t").catch((e) => e);
  assert.equal(error.status, 502);
  assert.equal(error.code, "http_error");
  assert.equal(error.message, "HTTP 502");
  assert.equal(error.retryAfter, undefined);
});

test("a request that gets no answer is status 0 network_error", async () => {
  const fetch = async () => {
    throw new TypeError("fetch failed");
  };
  const error = await client(fetch).login({ email: "a@b.c", password: "x" }).catch((e) => e);
  assert.ok(error instanceof AuthgateError);
  assert.equal(error.status, 0);
  assert.equal(error.code, "network_error");
});

test("a request slower than the timeout is aborted as status 0 timeout", async () => {
  const fetch = (_url, init) =>
    new Promise((_ok, fail) => init.signal.addEventListener("abort", () => fail(init.signal.reason)));
  const keepAlive = setTimeout(() => {}, 5000); // AbortSignal.timeout's timer does not hold Node open
  const error = await client(fetch, { timeout: 50 }).me().catch((e) => e);
  clearTimeout(keepAlive);
  assert.equal(error.status, 0);
  assert.equal(error.code, "timeout");
});

test("the url may end with a slash and every call goes under /api/auth", async () => {
  const seen = [];
  const fetch = async (url, init) => {
    seen.push([init.method, url]);
    return json(200, { message: "ok" });
  };
  const c = client(fetch);
  await c.forgotPassword("ada@example.com");
  await c.verifyEmail("a/b");
  await c.resetPassword({ token: "t", newPassword: "p" });
  assert.deepEqual(seen, [
    ["POST", "http://authgate.test/api/auth/forgot-password"],
    ["GET", "http://authgate.test/api/auth/verify-email/a%2Fb"],
    ["POST", "http://authgate.test/api/auth/reset-password"],
  ]);
});
