// `authgate keys rotate` run against the live database: once the server has the new key,
// its tokens carry the new kid and the middleware fetches the JWKS again to verify them.
//
// A running authgate reads its keys again every KEY_RELOAD_INTERVAL (60 s,
// crates/core/src/keys.rs), and no setting shortens it; the test restarts the server on the
// same port and database instead, which loads the keys at start-up.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { AuthgateServer } from "../support/authgate-server.js";
import { EXPRESS_VERSIONS, startApp } from "../support/express-app.js";
import { parts } from "../support/tokens.js";

let authgate;
before(async () => {
  authgate = await AuthgateServer.start();
});
after(() => authgate?.close());

test("a rotated key is picked up through its new kid, and tokens of the old key still verify", async () => {
  // Cooldown 0: the JWKS was fetched a second ago; the default 5 s cooldown is unit-tested.
  const apps = await Promise.all(EXPRESS_VERSIONS.map(([, express]) => startApp(express, { url: authgate.url, jwksCooldownMs: 0 })));
  try {
    const before = await authgate.register();
    const oldKid = parts(before.accessToken).header.kid;
    for (const app of apps) assert.equal((await app.get("/me", before.accessToken)).status, 200);

    const { kid: newKid } = JSON.parse(await authgate.cli(["keys", "rotate"]));
    assert.notEqual(newKid, oldKid);
    await authgate.restart();

    const afterRotation = await authgate.login(before.email);
    assert.equal(parts(afterRotation.accessToken).header.kid, newKid, "authgate signs with the new key");
    for (const app of apps) {
      const res = await app.get("/me", afterRotation.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.userId, before.user.id);
      assert.equal((await app.get("/me", before.accessToken)).status, 200, "the retired key is still published");
    }
  } finally {
    await Promise.all(apps.map((app) => app.close()));
  }
});
