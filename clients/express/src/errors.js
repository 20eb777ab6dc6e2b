/**
 * The errors the middleware answers with, in authgate's contract shape
 * `{"message", "code"}`, and the one function that writes them.
 */

/** A refusal or failure with the HTTP status, contract code and message to answer with. */
export class AuthgateError extends Error {
  /**
   * @param {number} status HTTP status (401, 403 or 503).
   * @param {string} code the contract's snake_case code.
   * @param {string} message a sentence for the caller; never a token or a secret.
   * @param {{ cause?: unknown, bearerError?: string }} [options]
   */
  constructor(status, code, message, options = {}) {
    super(message, { cause: options.cause });
    this.name = "AuthgateError";
    this.status = status;
    this.code = code;
    this.bearerError = options.bearerError;
  }
}

/** 401 for a request that carries no bearer token. */
export function missingToken() {
  return new AuthgateError(401, "unauthenticated", "Missing bearer token");
}

/** 401 for a token that is not a live authgate access token (one answer for every reason). */
export function invalidToken(cause) {
  return new AuthgateError(401, "unauthenticated", "Invalid or expired access token", {
    cause,
    bearerError: "invalid_token",
  });
}

/** 403 for an authenticated caller whose role is not among the allowed ones. */
export function forbiddenRole() {
  return new AuthgateError(403, "forbidden", "Your role is not allowed to use this route", {
    bearerError: "insufficient_scope",
  });
}

/** 503 when authgate (its JWKS or its introspection endpoint) cannot answer: fail closed. */
export function unavailable(cause) {
  return new AuthgateError(503, "service_unavailable", "The authentication service is unavailable", {
    cause,
  });
}

/**
 * Writes `error` as the response, with `WWW-Authenticate` on 401 and 403 (RFC 6750).
 * Uses only Node's `http.ServerResponse` API, so Express 4 and 5 behave alike.
 *
 * @param {import("node:http").ServerResponse} res
 * @param {AuthgateError} error
 */
export function sendError(res, error) {
  const body = JSON.stringify({ message: error.message, code: error.code });
  res.statusCode = error.status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  const challenge = wwwAuthenticate(error);
  if (challenge) res.setHeader("WWW-Authenticate", challenge);
  if (error.status === 503) res.setHeader("Retry-After", "5");
  res.end(body);
}

function wwwAuthenticate(error) {
  if (error.status !== 401 && error.status !== 403) return undefined;
  if (!error.bearerError) return "Bearer";
  return `Bearer error="${error.bearerError}", error_description="${error.message}"`;
}
