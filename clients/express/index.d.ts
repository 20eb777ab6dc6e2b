// Type declarations of authgate-express, written by hand next to the JavaScript they
// describe (src/); `npm run typecheck` compiles test/types.ts against them.
import type { RequestHandler } from "express";
import type { JWTPayload } from "jose";

/** How a token's revocation is noticed. */
export type Revocation = "jwt" | "introspect";

/** Options of {@link authgate}. */
export interface AuthgateOptions {
  /** authgate's base URL as this app reaches it, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /**
   * `"jwt"` (default): tokens are verified locally with authgate's JWKS; a logged-out or
   * revoked token is still accepted until it expires (15 minutes by default).
   * `"introspect"`: each request also asks authgate (`POST /api/auth/introspect`), so a
   * logged-out token is refused at once; authgate unreachable means 503.
   */
  revocation?: Revocation;
  /** One of authgate's `AUTHGATE_INTROSPECTION_SECRETS` (at least 32 bytes); required for `"introspect"`. */
  introspectionSecret?: string;
  /** Introspect mode: how long an answer is reused, in ms (default 0: ask every time). */
  cacheMs?: number;
  /** Introspect mode: most answers kept in that cache (default 10,000). */
  cacheMaxEntries?: number;
  /** Expected `aud` (authgate's `AUTHGATE_JWT_AUDIENCE`; default `"authgate"`). */
  audience?: string;
  /** Expected `iss` (authgate's `AUTHGATE_PUBLIC_URL`; default `url`). */
  issuer?: string;
  /** Allowed clock skew for `exp`, in seconds (default 5, like authgate). */
  clockToleranceSec?: number;
  /** How long the JWKS is trusted before it is fetched again, in ms (default 600,000). */
  jwksCacheMs?: number;
  /** Least time between two JWKS fetches caused by an unknown `kid`, in ms (default 5,000). */
  jwksCooldownMs?: number;
  /** Time limit of one call to authgate, in ms (default 5,000); past it authgate counts as down. */
  timeoutMs?: number;
  /** Called with each 503 before it is sent (default: one line on stderr). Never given a token. */
  onError?: (error: AuthgateError) => void;
}

/** Who is calling: set on `req.auth` by `requireAuth()` and `requireRole()`. */
export interface AuthInfo {
  /** The user's id (`sub`). */
  userId: string;
  /** The session's id (`sid`): one per device. */
  sessionId: string;
  /** The role (from introspection in introspect mode, else from the token). */
  role: string;
  /** Introspect mode only: the user's email (null for a username-only account). */
  email?: string | null;
  /** Introspect mode only: the user's username, if any. */
  username?: string | null;
  /** The verified access token's claims (`iss`, `aud`, `sub`, `sid`, `role`, `iat`, `exp`, `jti`). */
  claims: JWTPayload & { sub: string; sid: string; role: string; exp: number; iat: number };
}

/** The middleware factory of one authgate server. */
export interface Authgate {
  /** Lets a request through with a live bearer token (setting `req.auth`); else 401, or 503 when authgate cannot answer. */
  requireAuth(): RequestHandler;
  /** Lets through only callers with one of `roles` (403 otherwise); authenticates first if needed. */
  requireRole(...roles: [string, ...string[]]): RequestHandler;
  /** Checks a token outside a route (a WebSocket upgrade, a job); rejects with an {@link AuthgateError}. */
  verify(token: string): Promise<AuthInfo>;
}

/** A refusal (401, 403) or failure (503) in authgate's `{message, code}` shape. */
export declare class AuthgateError extends Error {
  /** HTTP status. */
  readonly status: 401 | 403 | 503;
  /** The contract's code: `unauthenticated`, `forbidden` or `service_unavailable`. */
  readonly code: string;
}

/** Creates the middleware factory for the authgate server at `options.url`. */
export declare function authgate(options: AuthgateOptions): Authgate;

declare global {
  namespace Express {
    interface Request {
      /** Set by authgate-express once the caller is authenticated. */
      auth?: AuthInfo;
    }
  }
}
