// A small Express app behind authgate: one public route, one for any logged-in user, one
// for administrators. Run it next to authgate:
//
//   AUTHGATE_URL=http://127.0.0.1:8080 npm start
//
// With AUTHGATE_INTROSPECTION_SECRET set (one of authgate's AUTHGATE_INTROSPECTION_SECRETS),
// every request is also checked with authgate, so a logged-out token is refused at once.
import express from "express";
import { authgate } from "authgate-express";

const secret = process.env.AUTHGATE_INTROSPECTION_SECRET;
const auth = authgate({
  url: process.env.AUTHGATE_URL ?? "http://127.0.0.1:8080",
  revocation: secret ? "introspect" : "jwt",
  introspectionSecret: secret,
});

const app = express();

app.get("/api/public", (_req, res) => {
  res.json({ message: "Anyone can read this." });
});

app.get("/api/profile", auth.requireAuth(), (req, res) => {
  const { userId, sessionId, role, email } = req.auth;
  res.json({ message: "Only a logged-in user sees this.", userId, sessionId, role, email });
});

app.get("/api/admin/report", auth.requireAuth(), auth.requireRole("admin"), (req, res) => {
  res.json({ message: "Only an admin sees this.", userId: req.auth.userId });
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, "127.0.0.1", () => {
  console.log(`example app on http://127.0.0.1:${port} (authgate ${secret ? "introspect" : "jwt"} mode)`);
});
