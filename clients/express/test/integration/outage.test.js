// authgate stopped: the middleware never lets a request through on a guess.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { AuthgateServer } from "../support/authgate-server.js";
import { EXPRESS_VERSIONS, startApp } from "../support/express-app.js";

const SECRET = "express-app-introspection-secret-0123456789";
let authgate;
before(async () => {
  authgate = await AuthgateServer.start({ AUTHGATE_INTROSPECTION_SECRETS: SECRET });
});
after(() => authgate?.close());

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`on ${name} in jwt mode a stopped authgate is a 503 until the JWKS is known, then local checks go on`, async () => {
    await authgate.restart();
    const warm = await startApp(express, { url: authgate.url });
    const cold = await startApp(express, { url: authgate.url });
    try {
      const user = await authgate.register();
      assert.equal((await warm.get("/me", user.accessToken)).status, 200);
      await authgate.stop();

      const res = await cold.get("/me", user.accessToken);
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { message: "The authentication service is unavailable", code: "service_unavailable" });
      assert.equal(cold.errors.length, 1, "the outage is reported to onError");
      assert.equal((await warm.get("/me", user.accessToken)).status, 200, "the cached JWKS still verifies");
      assert.equal((await warm.get("/public")).status, 200);
    } finally {
      await warm.close();
      await cold.close();
    }
  });
}

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`on ${name} in introspect mode a stopped authgate is a 503 for every token, cached JWKS or not`, async () => {
    await authgate.restart();
    const app = await startApp(express, { url: authgate.url, revocation: "introspect", introspectionSecret: SECRET });
    try {
      const user = await authgate.register();
      assert.equal((await app.get("/me", user.accessToken)).status, 200);
      await authgate.stop();

      const res = await app.get("/me", user.accessToken);
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { message: "The authentication service is unavailable", code: "service_unavailable" });
      assert.equal(res.headers.get("retry-after"), "5");
      assert.match(app.errors[0].cause.message, /introspection request failed/);
      assert.equal((await app.get("/admin", user.accessToken)).status, 503, "the role guard fails closed too");
      assert.equal((await app.get("/public")).status, 200);
    } finally {
      await app.close();
    }
  });
}
