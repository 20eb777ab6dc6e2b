// introspect mode against the real authgate binary: every request also asks
// POST /api/auth/introspect, so a revoked session is refused at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AuthgateServer, PASSWORD } from "../support/authgate-server.js";
import { EXPRESS_VERSIONS, startApp } from "../support/express-app.js";
import { parts } from "../support/tokens.js";

const SECRET = "express-app-introspection-secret-0123456789";
let authgate;
before(async () => {
  authgate = await AuthgateServer.start({
    AUTHGATE_INTROSPECTION_SECRETS: `another-caller-secret-of-32-bytes-or-more,${SECRET}`,
    AUTHGATE_SELF_ASSIGNABLE_ROLES: "admin",
  });
});
after(() => authgate?.close());

const introspect = (extra = {}) => ({ url: authgate.url, revocation: "introspect", introspectionSecret: SECRET, ...extra });

function assertUnauthenticated(res) {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.deepEqual(res.body, { message: "Invalid or expired access token", code: "unauthenticated" });
  assert.match(res.headers.get("www-authenticate"), /^Bearer error="invalid_token"/);
}

for (const [name, express] of EXPRESS_VERSIONS) {
  describe(`introspect mode on ${name}`, () => {
    let app;
    before(async () => {
      app = await startApp(express, introspect());
    });
    after(() => app?.close());

    test("a live token reaches the route with the account's email and username", async () => {
      const username = `ada${Date.now()}${Math.floor(Math.random() * 1000)}`;
      const user = await authgate.register({ username });
      const res = await app.get("/me", user.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.userId, user.user.id);
      assert.equal(res.body.email, user.email);
      assert.equal(res.body.username, username);
      assert.equal(res.body.role, "user");
      assert.equal(res.body.claims.aud, "authgate");
    });

    test("an account without a username gets username null", async () => {
      const user = await authgate.register();
      const res = await app.get("/me", user.accessToken);
      assert.equal(res.status, 200);
      assert.equal(res.body.username, null);
    });

    test("after logout the very next request is refused", async () => {
      const user = await authgate.register();
      assert.equal((await app.get("/me", user.accessToken)).status, 200);
      assert.equal((await authgate.post("logout", {}, user.accessToken)).status, 200);
      assertUnauthenticated(await app.get("/me", user.accessToken));
    });

    test("a session ended from another device is refused at once", async () => {
      const user = await authgate.register();
      const other = await authgate.login(user.email);
      const { sid } = parts(user.accessToken).claims;
      assert.equal((await authgate.request("DELETE", `sessions/${sid}`, { token: other.accessToken })).status, 200);
      assertUnauthenticated(await app.get("/me", user.accessToken));
      assert.equal((await app.get("/me", other.accessToken)).status, 200, "the other device stays in");
    });

    test("a password change ends every session at once", async () => {
      const user = await authgate.register();
      const changed = await authgate.post(
        "change-password",
        { currentPassword: PASSWORD, newPassword: "Difference9Engine" },
        user.accessToken,
      );
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assertUnauthenticated(await app.get("/me", user.accessToken));
    });

    test("a disabled account is refused at once", async () => {
      const admin = await authgate.register({ role: "admin" });
      const user = await authgate.register();
      assert.equal((await app.get("/me", user.accessToken)).status, 200);
      const disabled = await authgate.post(`admin/users/${user.user.id}/disable`, undefined, admin.accessToken);
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      assertUnauthenticated(await app.get("/me", user.accessToken));
    });

    test("the role guard uses the role authgate reports", async () => {
      const admin = await authgate.register({ role: "admin" });
      const user = await authgate.register();
      const allowed = await app.get("/admin", admin.accessToken);
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.role, "admin");
      const refused = await app.get("/admin", user.accessToken);
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.body, { message: "Your role is not allowed to use this route", code: "forbidden" });
    });

    test("a refresh token used as a bearer token is refused", async () => {
      const user = await authgate.register();
      assertUnauthenticated(await app.get("/me", user.refreshToken));
    });
  });
}

describe("introspect mode misconfigured or cached", () => {
  test("a secret authgate does not know is a 503 that names the setting", async () => {
    const app = await startApp(EXPRESS_VERSIONS[1][1], introspect({ introspectionSecret: "a-secret-authgate-was-never-given-xxxxxxxx" }));
    try {
      const user = await authgate.register();
      const res = await app.get("/me", user.accessToken);
      assert.equal(res.status, 503);
      assert.equal(res.body.code, "service_unavailable");
      assert.match(app.errors[0].cause.message, /introspectionSecret is not one of authgate's AUTHGATE_INTROSPECTION_SECRETS/);
    } finally {
      await app.close();
    }
  });

  test("with cacheMs a logged-out token is accepted until its cached answer ends, as documented", async () => {
    const app = await startApp(EXPRESS_VERSIONS[1][1], introspect({ cacheMs: 60_000 }));
    const fresh = await startApp(EXPRESS_VERSIONS[1][1], introspect());
    try {
      const user = await authgate.register();
      assert.equal((await app.get("/me", user.accessToken)).status, 200);
      assert.equal((await authgate.post("logout", {}, user.accessToken)).status, 200);
      assert.equal((await app.get("/me", user.accessToken)).status, 200, "answered from the cache");
      assertUnauthenticated(await fresh.get("/me", user.accessToken));
    } finally {
      await app.close();
      await fresh.close();
    }
  });
});

test("an authgate without AUTHGATE_INTROSPECTION_SECRETS is a 503 that says to set it", async () => {
  const plain = await AuthgateServer.start();
  const app = await startApp(EXPRESS_VERSIONS[1][1], { url: plain.url, revocation: "introspect", introspectionSecret: SECRET });
  try {
    const user = await plain.register();
    const res = await app.get("/me", user.accessToken);
    assert.equal(res.status, 503);
    assert.match(app.errors[0].cause.message, /set AUTHGATE_INTROSPECTION_SECRETS/);
  } finally {
    await app.close();
    await plain.close();
  }
});
