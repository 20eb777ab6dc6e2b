// Compiled by `npm run typecheck` (never run): the declarations must describe real use.
import express from "express";
import { authgate, AuthgateError, type AuthInfo } from "authgate-express";

const auth = authgate({ url: "http://127.0.0.1:8080", revocation: "introspect", introspectionSecret: "x".repeat(32), cacheMs: 1000 });
const app = express();
app.get("/orders", auth.requireAuth(), (req, res) => {
  const who: AuthInfo | undefined = req.auth;
  res.json({ user: who?.userId, email: who?.email, exp: who?.claims.exp });
});
app.delete("/users/:id", auth.requireAuth(), auth.requireRole("admin", "support"), (_req, res) => {
  res.sendStatus(204);
});
auth.verify("token").catch((e: unknown) => {
  if (e instanceof AuthgateError) console.log(e.status, e.code);
});
// @ts-expect-error requireRole needs at least one role
auth.requireRole();
// @ts-expect-error revocation is "jwt" or "introspect"
authgate({ url: "http://x", revocation: "session" });
