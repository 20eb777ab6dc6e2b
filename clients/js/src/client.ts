import { AuthgateError, errorOf, failureOf } from "./errors.js";
import { joinTabs, type TabMessage } from "./tabs.js";
import type {
  AuthEvent,
  AuthListener,
  ChangePasswordInput,
  LoginInput,
  Message,
  RegisterInput,
  ResetPasswordInput,
  Session,
  SignedIn,
  Tokens,
  User,
} from "./types.js";

/** How `createClient` is set up. Only `url` is required. */
export interface ClientOptions {
  /** authgate's public URL, without `/api/auth`, e.g. `https://auth.example.com`. */
  url: string;
  /**
   * Where the refresh token lives. `cookie` (the default where `document` exists): in
   * authgate's HttpOnly cookie, out of reach of JavaScript; tabs share it and coordinate.
   * `memory` (the default elsewhere, e.g. Node): in this client, sent in the request body.
   */
  refreshToken?: "cookie" | "memory";
  /**
   * Also refresh shortly before the access token expires, and when a tab becomes visible
   * with an access token that expired or is about to (after sleep). Off by default: then a
   * refresh happens only on a 401.
   */
  autoRefresh?: boolean;
  /** Upper bound of every wait in milliseconds: each request to authgate, the cross-tab lock. Default 10000. */
  timeout?: number;
  /** The `fetch` to use; the global one by default. */
  fetch?: typeof fetch;
}

/** The client `createClient` returns. Methods reject with `AuthgateError`. */
export interface AuthgateClient {
  /** `POST /register`: opens a session. */
  register(input: RegisterInput): Promise<SignedIn>;
  /** `POST /login`: opens a session. */
  login(input: LoginInput): Promise<SignedIn>;
  /** `POST /logout`: ends this session (every session with `all`); signs out every tab. */
  logout(options?: { all?: boolean }): Promise<void>;
  /** `GET /me`: the signed-in account. */
  me(): Promise<User>;
  /** `POST /refresh`: a new access token (shared with any refresh already under way). */
  refresh(): Promise<Tokens>;
  /** `GET /sessions`: the account's sessions, one per device. */
  sessions(): Promise<Session[]>;
  /** `DELETE /sessions/{id}`: ends one session (signs out here when it is this one). */
  revokeSession(id: string): Promise<Message>;
  /** `POST /change-password`: every session ends, this one too, so this client signs out. */
  changePassword(input: ChangePasswordInput): Promise<Message>;
  /** `POST /forgot-password`: mails a reset link if the address has an account. */
  forgotPassword(email: string): Promise<Message>;
  /** `POST /reset-password` with the token from the reset mail. */
  resetPassword(input: ResetPasswordInput): Promise<Message>;
  /** `GET /verify-email/{token}` with the token from the verification mail. */
  verifyEmail(token: string): Promise<Message>;
  /** `POST /resend-verification`: mails a new verification link. */
  resendVerification(): Promise<Message>;
  /**
   * `fetch` for the app's own API: adds the bearer token and, on a 401, refreshes once and
   * retries once. A body given in `init` must be re-readable (a string, not a stream).
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Calls `listener` on every sign-in, refresh and sign-out; returns the unsubscribe function. */
  onAuthStateChange(listener: AuthListener): () => void;
  /** The access token held now (memory only), or null. */
  readonly accessToken: string | null;
  /** Stops timers and cross-tab listening. */
  close(): void;
}

/** The most a timer can wait (setTimeout's 32-bit limit). */
const MAX_DELAY = 2 ** 31 - 1;

/** A client for the authgate at `options.url`. */
export function createClient(options: ClientOptions): AuthgateClient {
  const base = options.url.replace(/\/+$/, "") + "/api/auth";
  const timeout = options.timeout ?? 1e4;
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const cookie = (options.refreshToken ?? (typeof document == "object" ? "cookie" : "memory")) == "cookie";
  const listeners = new Set<AuthListener>();

  let access: string | null = null;
  let expiresAt = 0;
  let life = 0;
  let refreshToken: string | null = null;
  // True once this client knows there is no session (signed out, or a refresh was refused),
  // so that a 401 does not send a refresh that cannot succeed.
  let gone = false;
  let inflight: Promise<Tokens> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const tabs = cookie ? joinTabs("authgate " + base, timeout, receive) : undefined;
  const onVisible = () => {
    if (document.visibilityState == "visible" && access && Date.now() > expiresAt - margin()) {
      refresh().catch(() => {});
    }
  };
  if (options.autoRefresh && typeof document == "object") {
    document.addEventListener("visibilitychange", onVisible);
  }

  function emit(event: AuthEvent) {
    for (const listener of listeners) {
      try {
        listener(event, access);
      } catch (e) {
        // A failing listener must not fail the sign-in or refresh that called it.
        setTimeout(() => {
          throw e;
        });
      }
    }
  }

  /** How long before expiry an automatic refresh starts: a quarter of the life, at most 30 s. */
  function margin() {
    return Math.min(3e4, life / 4);
  }

  function schedule() {
    clearTimeout(timer);
    if (!options.autoRefresh || !access) return;
    const delay = Math.min(MAX_DELAY, expiresAt - Date.now() - margin());
    timer = setTimeout(() => refresh().catch(() => {}), delay);
    (timer as { unref?: () => void }).unref?.();
  }

  function adopt(event: AuthEvent, token: string, at: number, share: boolean) {
    access = token;
    expiresAt = at;
    life = at - Date.now();
    gone = false;
    if (share) tabs?.post({ type: event as "SIGNED_IN", accessToken: token, expiresAt: at });
    schedule();
    emit(event);
  }

  /** Forgets the session; `SIGNED_OUT` is reported only by a client that held a token. */
  function signOut(share: boolean) {
    const was = access != null;
    access = refreshToken = null;
    gone = true;
    clearTimeout(timer);
    if (share) tabs?.post({ type: "SIGNED_OUT" });
    if (was) emit("SIGNED_OUT");
  }

  function receive(message: TabMessage) {
    if (message.type == "SIGNED_OUT") signOut(false);
    else if (message.accessToken) adopt(message.type, message.accessToken, message.expiresAt, false);
  }

  /** The tokens held now, as the public methods return them. */
  function held(): Tokens {
    const expiresIn = Math.max(0, Math.round((expiresAt - Date.now()) / 1e3));
    return { accessToken: access!, tokenType: "Bearer", expiresIn };
  }

  /** Takes the tokens of a register, login or refresh answer. */
  function take(body: Tokens & { refreshToken?: string }, event: AuthEvent): Tokens {
    if (!cookie && body.refreshToken) refreshToken = body.refreshToken;
    adopt(event, body.accessToken, Date.now() + body.expiresIn * 1e3, true);
    return held();
  }

  async function request(path: string, method: string, body?: unknown, token?: string | null) {
    const headers: Record<string, string> = {};
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    try {
      return await send(base + path, {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
        credentials: cookie ? "include" : "same-origin",
        signal: AbortSignal.timeout(timeout),
      });
    } catch (e) {
      throw failureOf(e);
    }
  }

  async function json<T>(res: Response): Promise<T> {
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }

  /** Sends with the bearer token; on a 401, refreshes once and sends once more. */
  async function authorized(attempt: (token: string | null) => Promise<Response>) {
    const used = access;
    const res = await attempt(used);
    if (res.status != 401 || (gone && !access) || (!cookie && !refreshToken)) return res;
    try {
      await refreshFrom(used);
    } catch {
      return res;
    }
    return attempt(access);
  }

  const call = async <T>(path: string, method = "GET", body?: unknown) =>
    json<T>(await authorized((token) => request(path, method, body, token)));

  /**
   * Replaces `stale`, the token a request was refused with: at most one refresh at a time in
   * this page, none when the token was replaced meanwhile (here, or by a peer tab).
   */
  function refreshFrom(stale: string | null): Promise<Tokens> {
    const fresh = () => (access && access != stale ? held() : null);
    const now = fresh();
    if (now) return Promise.resolve(now);
    inflight ??= (tabs ? tabs.refresh(fresh, rotate) : rotate()).finally(() => (inflight = null));
    return inflight;
  }

  function refresh() {
    return refreshFrom(access);
  }

  async function rotate(): Promise<Tokens> {
    const res = await request("/refresh", "POST", cookie ? undefined : { refreshToken });
    if (res.status == 401) {
      const error = await errorOf(res);
      signOut(true);
      throw error;
    }
    return take(await json(res), "TOKEN_REFRESHED");
  }

  async function signIn(path: string, input: object): Promise<SignedIn> {
    const body = await json<SignedIn>(await request(path, "POST", input));
    return { ...take(body, "SIGNED_IN"), user: body.user };
  }

  /** The session id (`sid`) of the access token held now. */
  function sid(): string | undefined {
    try {
      const part = access!.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).sid;
    } catch {
      return undefined;
    }
  }

  return {
    register: (input) => signIn("/register", input),
    login: (input) => signIn("/login", input),
    async logout(options) {
      try {
        await call("/logout", "POST", options?.all && { all: true });
      } catch (e) {
        // 401: there was no live session to end, which is what logging out asks for.
        if ((e as AuthgateError).status != 401) throw e;
      } finally {
        signOut(true);
      }
    },
    me: async () => (await call<{ user: User }>("/me")).user,
    refresh,
    sessions: async () => (await call<{ sessions: Session[] }>("/sessions")).sessions,
    async revokeSession(id) {
      const own = id == sid();
      const message = await call<Message>("/sessions/" + encodeURIComponent(id), "DELETE");
      if (own) signOut(true);
      return message;
    },
    async changePassword(input) {
      const message = await call<Message>("/change-password", "POST", input);
      signOut(true);
      return message;
    },
    forgotPassword: async (email) => json(await request("/forgot-password", "POST", { email })),
    resetPassword: async (input) => json(await request("/reset-password", "POST", input)),
    verifyEmail: async (token) => json(await request("/verify-email/" + encodeURIComponent(token), "GET")),
    resendVerification: () => call("/resend-verification", "POST"),
    fetch: (input, init = {}) =>
      authorized((token) => {
        const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
        if (token) headers.set("Authorization", "Bearer " + token);
        return send(input instanceof Request ? input.clone() : input, { ...init, headers });
      }),
    onAuthStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get accessToken() {
      return access;
    },
    close() {
      clearTimeout(timer);
      tabs?.close();
      if (typeof document == "object") document.removeEventListener("visibilitychange", onVisible);
    },
  };
}


