// jwt mode against the real authgate binary: tokens verified locally with its JWKS.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AuthgateServer } from "../support/authgate-server.js";
import { EXPRESS_VERSIONS, startApp } from "../support/express-app.js";
import { hmacWithPublicKey, parts, signedWithAnotherKey, tampered, unsigned } from "../support/tokens.js";

let authgate;
before(async () => {
  authgate = await AuthgateServer.start({ AUTHGATE_SELF_ASSIGNABLE_ROLES: "admin,support" });
});
after(() => authgate?.close());

function assertRefused(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code);
  assert.equal(typeof res.body.message, "string");
  assert.deepEqual(Object.keys(res.body).sort(), ["code", "message"]);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  assert.match(res.headers.get("www-authenticate"), /^Bearer/);
}

for (const [name, express] of EXPRESS_VERSIONS) {
  describe(`jwt mode on ${name}`, () => {
    let app;
    before(async () => {
      app = await startApp(express, { url: authgate.url });
    });
    after(() => app?.close());

    test("a public route answers without a token", async () => {
      const res = await app.get("/public");
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { public: true });
    });

    test("a valid token reaches the route with req.auth from its claims", async () => {
      const user = await authgate.register();
      const res = await app.get("/me", user.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.userId, user.user.id);
      assert.equal(res.body.sessionId, parts(user.accessToken).claims.sid);
      assert.equal(res.body.role, "user");
      assert.equal(res.body.claims.iss, authgate.url);
      assert.equal(res.body.claims.aud, "authgate");
      assert.equal("email" in res.body, false, "the access token carries no email");
    });

    test("a request without a token gets 401 with a bare Bearer challenge", async () => {
      const res = await app.get("/me");
      assertRefused(res, 401, "unauthenticated");
      assert.equal(res.headers.get("www-authenticate"), "Bearer");
    });

    test("a token under another scheme than Bearer gets 401", async () => {
      const user = await authgate.register();
      const res = await fetch(`${app.url}/me`, { headers: { Authorization: `Basic ${user.accessToken}` } });
      assert.equal(res.status, 401);
    });

    test("a token with alg none gets 401 invalid_token", async () => {
      const user = await authgate.register();
      const res = await app.get("/me", unsigned(user.accessToken));
      assertRefused(res, 401, "unauthenticated");
      assert.match(res.headers.get("www-authenticate"), /error="invalid_token"/);
    });

    test("a token signed with another key under the real kid gets 401", async () => {
      const user = await authgate.register();
      const res = await app.get("/me", await signedWithAnotherKey(user.accessToken));
      assertRefused(res, 401, "unauthenticated");
    });

    test("a token signed with another key under an unknown kid gets 401", async () => {
      const user = await authgate.register();
      const res = await app.get("/me", await signedWithAnotherKey(user.accessToken, { kid: "ed25519-forged" }));
      assertRefused(res, 401, "unauthenticated");
    });

    test("a token whose payload was changed gets 401, even on a role-guarded route", async () => {
      const user = await authgate.register();
      const forged = tampered(user.accessToken, { role: "admin" });
      assertRefused(await app.get("/me", forged), 401, "unauthenticated");
      assertRefused(await app.get("/admin", forged), 401, "unauthenticated");
    });

    test("a token MACed with HS256 and the public key as secret gets 401", async () => {
      const user = await authgate.register();
      const jwks = await (await fetch(`${authgate.url}/.well-known/jwks.json`)).json();
      const res = await app.get("/me", await hmacWithPublicKey(user.accessToken, jwks));
      assertRefused(res, 401, "unauthenticated");
    });

    test("garbage in the bearer header gets 401", async () => {
      assertRefused(await app.get("/me", "not.a.jwt"), 401, "unauthenticated");
    });

    test("after logout the token is still accepted until it expires, as documented", async () => {
      const user = await authgate.register();
      assert.equal((await authgate.post("logout", {}, user.accessToken)).status, 200);
      assert.equal((await authgate.post("logout", {}, user.accessToken)).status, 401, "authgate itself refuses it");
      const res = await app.get("/me", user.accessToken);
      assert.equal(res.status, 200, "jwt mode cannot see a logout");
    });

    test("the role guard lets an admin through and answers 403 to a user", async () => {
      const admin = await authgate.register({ role: "admin" });
      const user = await authgate.register();
      const allowed = await app.get("/admin", admin.accessToken);
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.role, "admin");
      const refused = await app.get("/admin", user.accessToken);
      assertRefused(refused, 403, "forbidden");
      assert.match(refused.headers.get("www-authenticate"), /error="insufficient_scope"/);
    });

    test("requireRole alone authenticates first and accepts any of its roles", async () => {
      const support = await authgate.register({ role: "support" });
      const user = await authgate.register();
      assert.equal((await app.get("/staff", support.accessToken)).status, 200);
      assertRefused(await app.get("/staff", user.accessToken), 403, "forbidden");
      assertRefused(await app.get("/staff"), 401, "unauthenticated");
    });
  });
}

describe("jwt mode checks iss and aud", () => {
  test("a token for another audience gets 401", async () => {
    const app = await startApp(EXPRESS_VERSIONS[1][1], { url: authgate.url, audience: "billing-api" });
    try {
      const user = await authgate.register();
      assertRefused(await app.get("/me", user.accessToken), 401, "unauthenticated");
    } finally {
      await app.close();
    }
  });

  test("a token from another issuer gets 401", async () => {
    const app = await startApp(EXPRESS_VERSIONS[1][1], { url: authgate.url, issuer: "https://auth.example.com" });
    try {
      const user = await authgate.register();
      assertRefused(await app.get("/me", user.accessToken), 401, "unauthenticated");
    } finally {
      await app.close();
    }
  });

  test("the configured audience and issuer are accepted when authgate uses them", async () => {
    const other = await AuthgateServer.start({ AUTHGATE_JWT_AUDIENCE: "billing-api", AUTHGATE_PUBLIC_URL: "https://auth.example.com" });
    const app = await startApp(EXPRESS_VERSIONS[1][1], { url: other.url, audience: "billing-api", issuer: "https://auth.example.com" });
    try {
      const user = await other.register();
      assert.equal((await app.get("/me", user.accessToken)).status, 200);
    } finally {
      await app.close();
      await other.close();
    }
  });
});
