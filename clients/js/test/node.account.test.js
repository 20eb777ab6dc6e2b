// Integration tests in Node (memory mode) against the real authgate binary: every endpoint of
// the contract through the client, and the errors it reports.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AuthgateError, createClient } from "../dist/index.js";
import { newAccount, startAuthgate } from "./support/authgate.js";

let server;
before(async () => {
  server = await startAuthgate();
});
after(() => server?.stop());

function client() {
  const c = createClient({ url: server.url });
  const events = [];
  c.onAuthStateChange((event) => events.push(event));
  return Object.assign(c, { events });
}

test("register signs in: me, sessions and the token work, and the refresh token stays inside", async () => {
  const c = client();
  const account = newAccount("ada");
  const signedIn = await c.register(account);
  assert.equal(signedIn.user.email, account.email);
  assert.equal(signedIn.tokenType, "Bearer");
  assert.ok(signedIn.expiresIn > 0);
  assert.equal("refreshToken" in signedIn, false);
  assert.equal(c.accessToken, signedIn.accessToken);
  assert.deepEqual(c.events, ["SIGNED_IN"]);

  const me = await c.me();
  assert.equal(me.id, signedIn.user.id);
  const sessions = await c.sessions();
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].current, true);
});

test("login, refresh and logout: the old access token is refused at once after logout", async () => {
  const account = newAccount("grace");
  await client().register(account);
  const c = client();
  await c.login({ identifier: account.email, password: account.password });
  const first = c.accessToken;
  const tokens = await c.refresh();
  assert.notEqual(tokens.accessToken, first);
  assert.equal((await c.me()).email, account.email);

  await c.logout();
  assert.equal(c.accessToken, null);
  assert.deepEqual(c.events, ["SIGNED_IN", "TOKEN_REFRESHED", "SIGNED_OUT"]);
  const me = await fetch(server.url + "/api/auth/me", { headers: { Authorization: `Bearer ${tokens.accessToken}` } });
  assert.equal(me.status, 401);
  const error = await c.me().catch((e) => e);
  assert.equal(error.status, 401);
  assert.equal(error.code, "unauthenticated");
});

test("logout with all ends every session of the account", async () => {
  const account = newAccount("all");
  const a = client();
  await a.register(account);
  const b = client();
  await b.login({ email: account.email, password: account.password });
  await a.logout({ all: true });
  const error = await b.me().catch((e) => e);
  assert.equal(error.status, 401);
  assert.equal(b.accessToken, null, "b's refresh was refused, so b signed out");
  assert.deepEqual(b.events, ["SIGNED_IN", "SIGNED_OUT"]);
});

test("errors carry the contract's status, code, message and details", async () => {
  const c = client();
  const invalid = await c.register({ email: "not-an-email", password: "short", name: "A" }).catch((e) => e);
  assert.ok(invalid instanceof AuthgateError);
  assert.equal(invalid.status, 400);
  assert.equal(invalid.code, "validation_error");
  assert.ok(invalid.details.email.length > 0);
  assert.ok(invalid.details.password.length > 0);

  const account = newAccount("taken");
  await c.register(account);
  const taken = await client().register(account).catch((e) => e);
  assert.equal(taken.status, 409);
  assert.equal(taken.code, "email_taken");

  const wrong = await client().login({ email: account.email, password: "Wrong7password" }).catch((e) => e);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.code, "invalid_credentials");
  assert.equal(typeof wrong.message, "string");
});

test("a rate-limited call reports 429 with retryAfter in seconds", async () => {
  // The per-address limit of forgot-password is 5 an hour (the default).
  const c = client();
  const email = newAccount("limited").email;
  let error;
  for (let i = 0; i < 8 && !error; i++) {
    await c.forgotPassword(email).catch((e) => (error = e));
  }
  assert.ok(error, "no 429 after 8 requests");
  assert.equal(error.status, 429);
  assert.equal(error.code, "rate_limited");
  assert.ok(error.retryAfter > 0, `retryAfter ${error.retryAfter}`);
});

test("verification: resendVerification mails a link, verifyEmail spends it, then already_verified", async () => {
  const c = client();
  const account = newAccount("verify");
  await c.register(account);
  assert.equal((await c.resendVerification()).message, "Verification email sent");
  const token = await server.mailToken(account.email, "verify-email", 2);
  assert.equal((await c.verifyEmail(token)).message, "Email verified successfully");
  assert.equal((await c.me()).emailVerified, true);
  const again = await c.resendVerification().catch((e) => e);
  assert.equal(again.status, 400);
  assert.equal(again.code, "already_verified");
  // A used link for an address that is verified says so (mail scanners open links first).
  assert.equal((await c.verifyEmail(token)).message, "Email is already verified");
});

test("forgotPassword and resetPassword: the new password logs in, the old session is over", async () => {
  const c = client();
  const account = newAccount("reset");
  await c.register(account);
  const answer = await client().forgotPassword(account.email);
  assert.equal(answer.message, "If the email exists, a reset link has been sent");
  const token = await server.mailToken(account.email, "reset-password?token=");
  await client().resetPassword({ token, newPassword: "Brand9new-password" });
  const error = await c.me().catch((e) => e);
  assert.equal(error.status, 401);
  assert.equal(c.accessToken, null);
  await client().login({ email: account.email, password: "Brand9new-password" });
});

test("changePassword ends every session, so the client signs out", async () => {
  const c = client();
  const account = newAccount("change");
  await c.register(account);
  const answer = await c.changePassword({ currentPassword: account.password, newPassword: "Other8password!" });
  assert.equal(answer.message, "Password changed successfully");
  assert.equal(c.accessToken, null);
  assert.deepEqual(c.events, ["SIGNED_IN", "SIGNED_OUT"]);
  const wrong = await client()
    .changePassword({ currentPassword: "x", newPassword: "y" })
    .catch((e) => e);
  assert.equal(wrong.status, 401);
  await client().login({ email: account.email, password: "Other8password!" });
});

test("revokeSession ends another device at once, and this one signs out when it is its own", async () => {
  const account = newAccount("devices");
  const laptop = client();
  await laptop.register(account);
  const phone = client();
  await phone.login({ email: account.email, password: account.password });
  const phoneSession = (await phone.sessions()).find((s) => s.current);

  await laptop.revokeSession(phoneSession.id);
  const error = await phone.me().catch((e) => e);
  assert.equal(error.status, 401);
  assert.deepEqual(phone.events, ["SIGNED_IN", "SIGNED_OUT"]);

  const own = (await laptop.sessions()).find((s) => s.current);
  await laptop.revokeSession(own.id);
  assert.equal(laptop.accessToken, null);
  assert.deepEqual(laptop.events, ["SIGNED_IN", "SIGNED_OUT"]);

  const again = client();
  await again.login({ email: account.email, password: account.password });
  const missing = await again.revokeSession("no-such-session").catch((e) => e);
  assert.equal(missing.status, 404);
  assert.equal(missing.code, "not_found");
});
