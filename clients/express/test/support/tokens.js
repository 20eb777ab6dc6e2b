/**
 * Forging tokens the way an attacker would, from a real authgate token: unsigned, signed
 * with another key, tampered with, or signed with the public key as an HMAC secret.
 */
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from "jose";

const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The header and claims of a token (not verified). */
export function parts(token) {
  return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
}

/** The same claims under `alg: none`, with an empty signature. */
export function unsigned(token) {
  const { header, claims } = parts(token);
  return `${encode({ ...header, alg: "none" })}.${encode(claims)}.`;
}

/** The same claims and header (real `kid` unless `kid` is given) signed with a fresh Ed25519 key. */
export async function signedWithAnotherKey(token, { kid, claims: overrides } = {}) {
  const { header, claims } = parts(token);
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  return new SignJWT({ ...claims, ...overrides })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: kid ?? header.kid })
    .sign(privateKey);
}

/** The real signature over a payload changed by `overrides` (e.g. `{role: "admin"}`). */
export function tampered(token, overrides) {
  const [head, , signature] = token.split(".");
  return `${head}.${encode({ ...decodeJwt(token), ...overrides })}.${signature}`;
}

/** HS256 "signed" with the public key's `x` as the secret: the classic algorithm confusion. */
export async function hmacWithPublicKey(token, jwks) {
  const { header, claims } = parts(token);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: header.kid })
    .sign(new TextEncoder().encode(jwk.x));
}
