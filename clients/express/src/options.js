/**
 * Checks the options given to `authgate()` once, at start-up, and fills in the defaults.
 * A bad option throws a `TypeError` that names it, so a misconfigured app fails when it
 * starts rather than on its first request.
 */

/** authgate's `AUTHGATE_JWT_AUDIENCE` default. */
const DEFAULT_AUDIENCE = "authgate";
/** authgate's verifier allows 5 s of clock skew; so does this one by default. */
const DEFAULT_CLOCK_TOLERANCE_SEC = 5;
/** How long the JWKS is trusted before it is fetched again (jose's default). */
const DEFAULT_JWKS_CACHE_MS = 10 * 60 * 1000;
/**
 * Least time between two JWKS fetches caused by an unknown `kid`: bounds what forged tokens
 * with random key ids can cost authgate (one fetch per 5 s), while a key rotation is
 * picked up within 5 s of its first token.
 */
const DEFAULT_JWKS_COOLDOWN_MS = 5_000;
/** How long one call to authgate (JWKS or introspection) may take before it counts as down. */
const DEFAULT_TIMEOUT_MS = 5_000;
/** Most introspection answers kept when `cacheMs` > 0. */
const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
/** authgate refuses introspection secrets shorter than this (`AUTHGATE_INTROSPECTION_SECRETS`). */
const MIN_SECRET_BYTES = 32;

/**
 * @param {import("../index.js").AuthgateOptions} options
 * @returns {Required<Omit<import("../index.js").AuthgateOptions, "introspectionSecret">> & { introspectionSecret?: string, url: string }}
 */
export function resolveOptions(options) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("authgate(options): options must be an object with at least `url`");
  }
  const url = baseUrl(options.url);
  const revocation = options.revocation ?? "jwt";
  if (revocation !== "jwt" && revocation !== "introspect") {
    throw new TypeError(`authgate: revocation must be "jwt" or "introspect", got ${JSON.stringify(revocation)}`);
  }
  const introspectionSecret = options.introspectionSecret;
  if (revocation === "introspect") {
    if (typeof introspectionSecret !== "string" || introspectionSecret === "") {
      throw new TypeError(
        'authgate: revocation "introspect" needs introspectionSecret (one of authgate\'s AUTHGATE_INTROSPECTION_SECRETS)',
      );
    }
    if (Buffer.byteLength(introspectionSecret) < MIN_SECRET_BYTES) {
      throw new TypeError(`authgate: introspectionSecret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
  }
  return {
    url,
    revocation,
    introspectionSecret,
    issuer: nonEmptyString(options.issuer ?? url, "issuer"),
    audience: nonEmptyString(options.audience ?? DEFAULT_AUDIENCE, "audience"),
    cacheMs: nonNegative(options.cacheMs ?? 0, "cacheMs"),
    cacheMaxEntries: positiveInteger(options.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES, "cacheMaxEntries"),
    clockToleranceSec: nonNegative(options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC, "clockToleranceSec"),
    jwksCacheMs: nonNegative(options.jwksCacheMs ?? DEFAULT_JWKS_CACHE_MS, "jwksCacheMs"),
    jwksCooldownMs: nonNegative(options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS, "jwksCooldownMs"),
    timeoutMs: positiveInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs"),
    onError: typeof options.onError === "function" ? options.onError : logToConsole,
  };
}

/** authgate's base URL (scheme, host, port and any path prefix), without a trailing slash. */
function baseUrl(value) {
  if (typeof value !== "string" || value === "") {
    throw new TypeError("authgate: url is required (authgate's base URL, e.g. http://127.0.0.1:8080)");
  }
  let parsed;
  try {
    parsed = new URL(value);
  } catch {
    throw new TypeError(`authgate: url ${JSON.stringify(value)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`authgate: url ${JSON.stringify(value)} must be http:// or https://`);
  }
  if (parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new TypeError(`authgate: url ${JSON.stringify(value)} must not have a query, a fragment or credentials`);
  }
  return parsed.href.replace(/\/+$/, "");
}

function nonEmptyString(value, name) {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`authgate: ${name} must be a non-empty string`);
  }
  return value;
}

function nonNegative(value, name) {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`authgate: ${name} must be a number of at least 0`);
  }
  return value;
}

function positiveInteger(value, name) {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`authgate: ${name} must be a positive integer`);
  }
  return value;
}

/** The default `onError`: one line on stderr, naming the cause but never a token. */
function logToConsole(error) {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  console.error(`authgate-express: ${error.message}${cause}`);
}
