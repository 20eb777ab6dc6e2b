/**
 * Local verification of authgate access tokens with its published keys
 * (`<url>/.well-known/jwks.json`), through jose.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";

import { AuthgateError, invalidToken, unavailable } from "./errors.js";

/** jose errors that mean "this token's key is not in the JWKS": the token's fault. */
const UNKNOWN_KEY_CODES = new Set(["ERR_JWKS_NO_MATCHING_KEY", "ERR_JWKS_MULTIPLE_MATCHING_KEYS", "ERR_JOSE_NOT_SUPPORTED"]);

/**
 * Claims authgate puts in every access token (`crates/core/src/tokens.rs`, `AccessClaims`);
 * a token missing one is not authgate's.
 */
const REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "role", "exp", "iat"];

/**
 * Builds `verify(token) -> claims`: checks the signature against the JWKS (cached for
 * `jwksCacheMs`; an unknown `kid` fetches it again, at most once per `jwksCooldownMs`),
 * accepts only an algorithm that the matching JWK itself declares, and checks `iss`, `aud`
 * and `exp`. Throws an `AuthgateError`: 401 for a bad token, 503 when the JWKS cannot be
 * fetched (fail closed).
 *
 * @param {ReturnType<typeof import("./options.js").resolveOptions>} options
 */
export function createJwtVerifier(options) {
  const jwks = createRemoteJWKSet(new URL(`${options.url}/.well-known/jwks.json`), {
    cacheMaxAge: options.jwksCacheMs,
    cooldownDuration: options.jwksCooldownMs,
    timeoutDuration: options.timeoutMs,
  });

  async function keyFor(header, token) {
    let key;
    try {
      key = await jwks(header, token);
    } catch (error) {
      throw UNKNOWN_KEY_CODES.has(error?.code) ? invalidToken(error) : unavailable(error);
    }
    // Algorithms come from the JWKS only: the token's `alg` must be the one its key declares.
    const declared = jwks.jwks()?.keys.find((k) => k.kid === header.kid)?.alg;
    if (!header.kid || declared === undefined || declared !== header.alg) {
      throw invalidToken(new Error(`alg ${header.alg} is not the JWKS's for kid ${header.kid}`));
    }
    return key;
  }

  return async function verify(token) {
    try {
      const { payload } = await jwtVerify(token, keyFor, {
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSec,
        requiredClaims: REQUIRED_CLAIMS,
      });
      if (typeof payload.sub !== "string" || typeof payload.sid !== "string" || typeof payload.role !== "string") {
        throw invalidToken(new Error("sub, sid and role must be strings"));
      }
      return payload;
    } catch (error) {
      if (error instanceof AuthgateError) throw error;
      throw invalidToken(error);
    }
  };
}
