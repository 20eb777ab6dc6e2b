/**
 * authgate-express: Express (4 and 5) middleware that lets only holders of a live authgate
 * session reach a route.
 *
 * ```js
 * import { authgate } from "authgate-express";
 * const auth = authgate({ url: "http://127.0.0.1:8080" });
 * app.get("/api/orders", auth.requireAuth(), (req, res) => res.json(req.auth));
 * app.delete("/api/users/:id", auth.requireAuth(), auth.requireRole("admin"), handler);
 * ```
 */
import { AuthgateError, forbiddenRole, invalidToken, missingToken, sendError } from "./errors.js";
import { createIntrospector } from "./introspect.js";
import { createJwtVerifier } from "./jwt.js";
import { resolveOptions } from "./options.js";

export { AuthgateError } from "./errors.js";

/**
 * Creates the middleware factory for one authgate server.
 *
 * @param {import("../index.js").AuthgateOptions} options
 * @returns {import("../index.js").Authgate}
 */
export function authgate(options) {
  const config = resolveOptions(options);
  /** The `req.auth` objects this instance made: `requireRole` trusts no other. */
  const issued = new WeakSet();
  const verifyJwt = createJwtVerifier(config);
  const introspect = config.revocation === "introspect" ? createIntrospector(config) : undefined;

  async function verify(token) {
    if (typeof token !== "string" || token === "") throw missingToken();
    const claims = await verifyJwt(token);
    if (!introspect) {
      return { userId: claims.sub, sessionId: claims.sid, role: claims.role, claims };
    }
    const answer = await introspect(token, claims.exp);
    if (answer.active !== true || answer.sub !== claims.sub || answer.sid !== claims.sid) {
      throw invalidToken(new Error("introspection: not active"));
    }
    return {
      userId: claims.sub,
      sessionId: claims.sid,
      role: typeof answer.role === "string" ? answer.role : claims.role,
      email: answer.email ?? null,
      username: answer.username ?? null,
      claims,
    };
  }

  /** Sets `req.auth`, or answers the refusal; every path ends in `next()` or a response. */
  function authenticate(req, res, next, then) {
    verify(bearerToken(req)).then(
      (auth) => {
        issued.add(auth);
        req.auth = auth;
        then();
      },
      (error) => refuse(res, next, error),
    )
      .catch(next);
  }

  function refuse(res, next, error) {
    if (!(error instanceof AuthgateError)) return next(error);
    if (error.status === 503) config.onError(error);
    sendError(res, error);
  }

  return {
    verify,
    requireAuth() {
      return function authgateRequireAuth(req, res, next) {
        authenticate(req, res, next, () => next());
      };
    },
    requireRole(...roles) {
      const allowed = roleList(roles);
      return function authgateRequireRole(req, res, next) {
        const check = () => (allowed.has(req.auth.role) ? next() : sendError(res, forbiddenRole()));
        if (issued.has(req.auth)) return check();
        authenticate(req, res, next, check);
      };
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
function bearerToken(req) {
  const header = req.headers?.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1];
}

function roleList(roles) {
  const flat = roles.flat();
  if (flat.length === 0 || flat.some((r) => typeof r !== "string" || r === "")) {
    throw new TypeError('authgate: requireRole needs one or more role names, e.g. requireRole("admin")');
  }
  return new Set(flat);
}
