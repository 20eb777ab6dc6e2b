// An expired token from the real authgate, issued with a 2-second access-token life.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { AuthgateServer } from "../support/authgate-server.js";
import { EXPRESS_VERSIONS, startApp } from "../support/express-app.js";
import { parts } from "../support/tokens.js";

let authgate;
before(async () => {
  authgate = await AuthgateServer.start({ AUTHGATE_ACCESS_TOKEN_TTL: "2s" });
});
after(() => authgate?.close());

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`on ${name} a token is accepted until its exp and refused with 401 after it`, async () => {
    // No clock tolerance here, so the test waits for exp itself rather than exp + 5 s.
    const app = await startApp(express, { url: authgate.url, clockToleranceSec: 0 });
    try {
      const user = await authgate.register();
      const { exp } = parts(user.accessToken).claims;
      assert.equal((await app.get("/me", user.accessToken)).status, 200, "still live");
      await new Promise((ok) => setTimeout(ok, exp * 1000 + 20 - Date.now()));
      const res = await app.get("/me", user.accessToken);
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { message: "Invalid or expired access token", code: "unauthenticated" });
      assert.match(res.headers.get("www-authenticate"), /error="invalid_token"/);
    } finally {
      await app.close();
    }
  });
}
