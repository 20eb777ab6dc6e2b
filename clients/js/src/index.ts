/**
 * `@authgate/client`: typed calls to authgate, a `fetch` that refreshes on 401, and one
 * refresh across the tabs of a browser. No runtime dependencies; browsers and Node 20+.
 */
export { createClient, type AuthgateClient, type ClientOptions } from "./client.js";
export { AuthgateError } from "./errors.js";
export type * from "./types.js";
