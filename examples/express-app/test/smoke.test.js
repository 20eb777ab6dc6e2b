// The example app as a newcomer runs it (`node server.js`), next to the real authgate
// binary: the public route is open, the protected ones want a token, and in introspect
// mode a logout is felt at once. Starts the binary with the package's own test helper.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { AuthgateServer, freePort } from "../../../clients/express/test/support/authgate-server.js";

const SECRET = "example-app-introspection-secret-0123456789";
const SERVER_JS = fileURLToPath(new URL("../server.js", import.meta.url));

let authgate;
before(async () => {
  authgate = await AuthgateServer.start({ AUTHGATE_INTROSPECTION_SECRETS: SECRET, AUTHGATE_SELF_ASSIGNABLE_ROLES: "admin" });
});
after(() => authgate?.close());

/** Runs `node server.js` with `env` and waits for its start-up line. */
async function startExample(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_JS], {
    env: { ...process.env, PORT: String(port), AUTHGATE_URL: authgate.url, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise((ok, fail) => {
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      output += chunk;
      if (output.includes("example app on")) ok();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => fail(new Error(`server.js exited with ${code}:\n${output}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    output: () => output,
    async get(path, token) {
      const res = await fetch(`${url}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      return { status: res.status, body: await res.json() };
    },
    stop: () =>
      new Promise((ok) => {
        child.removeAllListeners("exit");
        child.once("exit", ok);
        child.kill("SIGTERM");
      }),
  };
}

for (const [mode, env] of [
  ["jwt", {}],
  ["introspect", { AUTHGATE_INTROSPECTION_SECRET: SECRET }],
]) {
  describe(`the example app in ${mode} mode`, () => {
    let app;
    before(async () => {
      app = await startExample(env);
    });
    after(() => app?.stop());

    test("says which mode it runs in", () => {
      assert.match(app.output(), new RegExp(`authgate ${mode} mode`));
    });

    test("the public route answers without a token", async () => {
      assert.deepEqual(await app.get("/api/public"), { status: 200, body: { message: "Anyone can read this." } });
    });

    test("the profile route wants a token and shows its owner", async () => {
      assert.equal((await app.get("/api/profile")).status, 401);
      const user = await authgate.register();
      const res = await app.get("/api/profile", user.accessToken);
      assert.equal(res.status, 200);
      assert.equal(res.body.userId, user.user.id);
      assert.equal(res.body.email, mode === "introspect" ? user.email : undefined);
    });

    test("the admin route is for admins only", async () => {
      const user = await authgate.register();
      const admin = await authgate.register({ role: "admin" });
      assert.equal((await app.get("/api/admin/report", user.accessToken)).status, 403);
      assert.equal((await app.get("/api/admin/report", admin.accessToken)).status, 200);
    });

    test(`after logout the token is ${mode === "jwt" ? "still accepted (until it expires)" : "refused at once"}`, async () => {
      const user = await authgate.register();
      assert.equal((await authgate.post("logout", {}, user.accessToken)).status, 200);
      assert.equal((await app.get("/api/profile", user.accessToken)).status, mode === "jwt" ? 200 : 401);
    });
  });
}
