// A scripted `fetch` for the unit tests of the client's own logic (retry, single flight,
// cross-tab hand-over, timeouts). It is not authgate: the integration and browser tests run
// the same paths against the real binary.

/** A fetch answering `/api/auth/*` like authgate would, and `app` for any other URL. */
export function scripted({ app, refreshDelay = 0 } = {}) {
  const calls = [];
  let generation = 0;
  let refreshAnswer = null; // null: rotate; else [status, body]
  const fake = {
    calls,
    /** How many `POST /refresh` were sent. */
    get refreshes() {
      return calls.filter((c) => c.path === "/refresh").length;
    },
    /** The current access token ("access-N"). */
    get current() {
      return `access-${generation}`;
    },
    /** Makes `/refresh` answer `status` with `body` from now on. */
    refuseRefresh(status = 401, body = { code: "invalid_refresh_token", message: "no" }) {
      refreshAnswer = [status, body];
    },
    async fetch(input, init = {}) {
      const url = String(input instanceof Request ? input.url : input);
      const headers = new Headers(init.headers);
      const path = url.includes("/api/auth") ? url.split("/api/auth")[1] : url;
      const body = init.body ? JSON.parse(init.body) : undefined;
      calls.push({ path, method: init.method ?? "GET", auth: headers.get("Authorization"), body, credentials: init.credentials });
      if (path === "/login" || path === "/register") {
        generation += 1;
        return json(200, tokens(generation, { user: { id: "u1" } }));
      }
      if (path === "/refresh") {
        if (refreshDelay) await new Promise((ok) => setTimeout(ok, refreshDelay));
        if (refreshAnswer) return json(...refreshAnswer);
        generation += 1;
        return json(200, tokens(generation));
      }
      if (path === "/me") {
        return headers.get("Authorization") === `Bearer ${fake.current}`
          ? json(200, { user: { id: "u1" } })
          : json(401, { code: "unauthenticated", message: "Invalid or expired access token" });
      }
      if (path === "/logout") return json(200, { message: "Logged out successfully" });
      return app(headers.get("Authorization"), fake);
    },
  };
  return fake;
}

function tokens(n, extra = {}) {
  return { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, tokenType: "Bearer", expiresIn: 900, ...extra };
}

/** A JSON response. */
export function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}
