/** An account, as authgate returns it (`GET /api/auth/me`, register, login). */
export interface User {
  /** Stable id (also the access token's `sub`). */
  id: string;
  /** The address, or null for a username-only account. */
  email: string | null;
  /** Unique user name, if the account has one. */
  username: string | null;
  /** Display name. */
  name: string | null;
  /** Given name. */
  firstName: string | null;
  /** Family name. */
  lastName: string | null;
  /** Role, `user` by default. */
  role: string;
  /** Whether the address has been verified. */
  emailVerified: boolean;
  /** RFC 3339 UTC time the account was created. */
  createdAt: string;
  /** RFC 3339 UTC time of the last login, if any. */
  lastLoginAt: string | null;
}

/** One device's session, as `GET /api/auth/sessions` lists it. */
export interface Session {
  /** Session id (the access token's `sid`). */
  id: string;
  /** When it was opened. */
  createdAt: string;
  /** When it last refreshed. */
  lastUsedAt: string;
  /** When it ends unless refreshed. */
  expiresAt: string;
  /** The browser or program that opened it. */
  userAgent: string | null;
  /** The client IP that opened it. */
  ip: string | null;
  /** Whether it is the session of this client. */
  current: boolean;
}

/** The access token this client holds. The refresh token is never part of it. */
export interface Tokens {
  /** The JWT to send as `Authorization: Bearer ...`. */
  accessToken: string;
  /** Always `Bearer`. */
  tokenType: "Bearer";
  /** Seconds until the access token expires. */
  expiresIn: number;
}

/** What register and login answer: the tokens and the account. */
export interface SignedIn extends Tokens {
  /** The account now signed in. */
  user: User;
}

/** A confirmation from authgate, e.g. `{"message":"Logged out successfully"}`. */
export interface Message {
  /** Human sentence. */
  message: string;
}

/** `POST /register`: a name, or a first and last name, is required. */
export interface RegisterInput {
  /** The address to sign up with. */
  email: string;
  /** The password (policy: see authgate's README). */
  password: string;
  /** Display name. */
  name?: string;
  /** Given name (with `lastName`, instead of `name`). */
  firstName?: string;
  /** Family name. */
  lastName?: string;
  /** Optional unique user name. */
  username?: string;
  /** A role the server lets clients pick (`AUTHGATE_SELF_ASSIGNABLE_ROLES`). */
  role?: string;
}

/** `POST /login`: the password and one of `email`, `username` or `identifier`. */
export interface LoginInput {
  /** The password. */
  password: string;
  /** Log in by address. */
  email?: string;
  /** Log in by user name. */
  username?: string;
  /** Log in by address or user name. */
  identifier?: string;
}

/** `POST /change-password`. */
export interface ChangePasswordInput {
  /** The password in use now. */
  currentPassword: string;
  /** The new password. */
  newPassword: string;
}

/** `POST /reset-password`, with the token from the reset mail. */
export interface ResetPasswordInput {
  /** The token from the link in the mail. */
  token: string;
  /** The new password. */
  newPassword: string;
}

/** What `onAuthStateChange` reports. */
export type AuthEvent = "SIGNED_IN" | "TOKEN_REFRESHED" | "SIGNED_OUT";

/** Called on every change of the signed-in state, in this tab or another one. */
export type AuthListener = (event: AuthEvent, accessToken: string | null) => void;
