/**
 * Asking authgate whether a token's session is still live (RFC 7662 token introspection,
 * `POST <url>/api/auth/introspect`), with an optional short cache.
 */
import { unavailable } from "./errors.js";

/**
 * Builds `introspect(token, exp) -> answer`, where `answer` is authgate's JSON
 * (`{active: false}` or `{active: true, sub, sid, role, email, username, ...}`).
 * Throws a 503 `AuthgateError` when authgate does not answer, answers late, or answers
 * anything but a 200 with an `active` boolean: the caller must then refuse the request.
 *
 * With `cacheMs` > 0 an answer is reused for that long (never past the token's `exp`), and
 * concurrent calls for one token share one request. A failed call is not cached.
 *
 * @param {ReturnType<typeof import("./options.js").resolveOptions>} options
 */
export function createIntrospector(options) {
  const endpoint = `${options.url}/api/auth/introspect`;
  const cache = new Map();

  async function ask(token) {
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${options.introspectionSecret}`,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: new URLSearchParams({ token }).toString(),
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw unavailable(new Error(`introspection request failed: ${error.message}`, { cause: error }));
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unavailable(new Error(explainStatus(response.status)));
    }
    let answer;
    try {
      answer = await response.json();
    } catch (error) {
      throw unavailable(new Error(`introspection answered with invalid JSON: ${error.message}`));
    }
    if (answer === null || typeof answer !== "object" || typeof answer.active !== "boolean") {
      throw unavailable(new Error("introspection answer has no boolean `active`"));
    }
    return answer;
  }

  function cached(token, exp) {
    const now = Date.now();
    const hit = cache.get(token);
    if (hit && hit.expiresAt > now) return hit.answer;
    if (hit) cache.delete(token);
    const answer = ask(token);
    cache.set(token, { answer, expiresAt: Math.min(now + options.cacheMs, exp * 1000) });
    answer.catch(() => {
      if (cache.get(token)?.answer === answer) cache.delete(token);
    });
    evictOverflow(now);
    return answer;
  }

  /** Drops expired entries, then the oldest ones, once the cache is over its size. */
  function evictOverflow(now) {
    if (cache.size <= options.cacheMaxEntries) return;
    for (const [token, entry] of cache) {
      if (entry.expiresAt <= now) cache.delete(token);
    }
    for (const token of cache.keys()) {
      if (cache.size <= options.cacheMaxEntries) break;
      cache.delete(token);
    }
  }

  return function introspect(token, exp) {
    return options.cacheMs > 0 ? cached(token, exp) : ask(token);
  };
}

function explainStatus(status) {
  switch (status) {
    case 401:
      return "introspection answered 401: introspectionSecret is not one of authgate's AUTHGATE_INTROSPECTION_SECRETS";
    case 404:
      return "introspection answered 404: set AUTHGATE_INTROSPECTION_SECRETS on authgate to turn the endpoint on";
    default:
      return `introspection answered ${status}`;
  }
}
