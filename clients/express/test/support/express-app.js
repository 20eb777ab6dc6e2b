/**
 * A real Express app on a free loopback port, protected by authgate-express, for each
 * Express major version the package supports.
 */
import express4 from "express4";
import express5 from "express5";

import { authgate } from "../../src/index.js";

/** The Express versions under test, by name. */
export const EXPRESS_VERSIONS = [
  ["express 4", express4],
  ["express 5", express5],
];

/**
 * Starts an app with `GET /public`, `GET /me` (requireAuth), `GET /admin` (requireAuth then
 * requireRole("admin")) and `GET /staff` (requireRole("admin", "support") alone), each
 * answering `req.auth` as JSON.
 *
 * @param {typeof express5} express
 * @param {import("../../index.js").AuthgateOptions} options
 */
export async function startApp(express, options) {
  const errors = [];
  const auth = authgate({ onError: (e) => errors.push(e), ...options });
  const app = express();
  app.get("/public", (_req, res) => res.json({ public: true }));
  app.get("/me", auth.requireAuth(), (req, res) => res.json(req.auth));
  app.get("/admin", auth.requireAuth(), auth.requireRole("admin"), (req, res) => res.json(req.auth));
  app.get("/staff", auth.requireRole("admin", "support"), (req, res) => res.json(req.auth));
  const server = await new Promise((ok, fail) => {
    const s = app.listen(0, "127.0.0.1", () => ok(s));
    s.once("error", fail);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    /** Errors the middleware reported (503s). */
    errors,
    /** `GET <path>` with an optional bearer token; resolves to `{status, headers, body}`. */
    async get(path, token) {
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      const res = await fetch(`${url}${path}`, { headers });
      return { status: res.status, headers: res.headers, body: await res.json() };
    },
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(ok);
      }),
  };
}
