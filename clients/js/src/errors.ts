/**
 * Every failure of a call to authgate: the contract's error body (`message`, `code`,
 * `details`) with the HTTP `status` and, on 429, `retryAfter` in seconds. A request that got
 * no answer has `status` 0 and `code` `network_error` or `timeout`.
 */
export class AuthgateError extends Error {
  /** HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** The contract's snake_case code, e.g. `invalid_credentials`, `rate_limited`. */
  readonly code: string;
  /** Field name to problems, on `validation_error`. */
  readonly details?: Record<string, string[]>;
  /** Seconds to wait before trying again (`Retry-After`), on 429 and some 503s. */
  readonly retryAfter?: number;

  /** An error as authgate reported it (or as the client saw it, for status 0). */
  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, string[]>,
    retryAfter?: number,
  ) {
    super(message);
    this.name = "AuthgateError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

/** Reads authgate's error body (or makes one up for a body that is not JSON). */
export async function errorOf(res: Response): Promise<AuthgateError> {
  const body = await res.json().catch(() => ({}));
  const wait = parseInt(res.headers.get("Retry-After") ?? "", 10);
  return new AuthgateError(
    res.status,
    body.code ?? "http_error",
    body.message ?? `HTTP ${res.status}`,
    body.details,
    wait >= 0 ? wait : undefined,
  );
}

/** The error for a request that got no answer. */
export function failureOf(cause: unknown): AuthgateError {
  const e = cause as Error;
  const timedOut = e?.name === "TimeoutError";
  return new AuthgateError(0, timedOut ? "timeout" : "network_error", String(e?.message ?? e));
}
