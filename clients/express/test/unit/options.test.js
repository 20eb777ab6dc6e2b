// authgate() checks its options when the app starts, naming the bad one.
import assert from "node:assert/strict";
import { test } from "node:test";

import { authgate } from "../../src/index.js";

const SECRET = "s".repeat(32);

test("a missing url is refused naming url", () => {
  assert.throws(() => authgate({}), { name: "TypeError", message: /url is required/ });
});

test("a url that is not http or https is refused", () => {
  assert.throws(() => authgate({ url: "ftp://auth.example.com" }), /must be http:\/\/ or https:\/\//);
  assert.throws(() => authgate({ url: "auth.example.com" }), /is not a URL/);
});

test("a url with a query or credentials is refused", () => {
  assert.throws(() => authgate({ url: "http://a:b@auth.example.com" }), /credentials/);
  assert.throws(() => authgate({ url: "http://auth.example.com/?x=1" }), /query/);
});

test("an unknown revocation mode is refused", () => {
  assert.throws(() => authgate({ url: "http://127.0.0.1:8080", revocation: "session" }), /revocation must be "jwt" or "introspect"/);
});

test("introspect mode without a secret is refused naming introspectionSecret", () => {
  assert.throws(() => authgate({ url: "http://127.0.0.1:8080", revocation: "introspect" }), /needs introspectionSecret/);
});

test("an introspection secret shorter than authgate accepts is refused", () => {
  assert.throws(
    () => authgate({ url: "http://127.0.0.1:8080", revocation: "introspect", introspectionSecret: "short" }),
    /at least 32 bytes/,
  );
});

test("a negative cacheMs is refused", () => {
  assert.throws(
    () => authgate({ url: "http://127.0.0.1:8080", revocation: "introspect", introspectionSecret: SECRET, cacheMs: -1 }),
    /cacheMs must be a number of at least 0/,
  );
});

test("requireRole without a role is refused when the route is declared", () => {
  const auth = authgate({ url: "http://127.0.0.1:8080" });
  assert.throws(() => auth.requireRole(), /requireRole needs one or more role names/);
  assert.throws(() => auth.requireRole(""), /requireRole needs one or more role names/);
});

test("valid options build both middlewares", () => {
  const auth = authgate({ url: "http://127.0.0.1:8080/", revocation: "introspect", introspectionSecret: SECRET, cacheMs: 500 });
  assert.equal(typeof auth.requireAuth(), "function");
  assert.equal(typeof auth.requireRole("admin"), "function");
});
