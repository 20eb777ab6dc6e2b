/**
 * A stand-in issuer for unit tests of cases the real authgate cannot be made to produce on
 * demand (a JWKS answering 500 or never answering, a key without `alg`, an introspection
 * endpoint answering garbage). It serves over a real loopback HTTP socket and counts requests.
 * The behaviour against the real binary is tested in `test/integration/`.
 */
import { createServer } from "node:http";

import { SignJWT, exportJWK, generateKeyPair } from "jose";

/** An Ed25519 key pair with its public JWK (`kid`, `alg: "EdDSA"`, `use: "sig"`). */
export async function newKey(kid, jwkExtras = { alg: "EdDSA" }) {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = { ...(await exportJWK(publicKey)), kid, use: "sig", ...jwkExtras };
  return { kid, privateKey, jwk };
}

/**
 * Starts the issuer. `issuer.keys` is the published key list; `issuer.jwksStatus` the JWKS
 * status (200); `issuer.hang` makes every request wait forever; `issuer.introspect(body,
 * headers)` answers `POST /api/auth/introspect` as `{status, body}`.
 */
export async function startFakeIssuer() {
  const requests = { jwks: 0, introspect: 0 };
  const issuer = {
    keys: [],
    jwksStatus: 200,
    hang: false,
    requests,
    introspect: () => ({ status: 200, body: { active: false } }),
  };
  const server = createServer(async (req, res) => {
    if (issuer.hang) return;
    if (req.url === "/.well-known/jwks.json") {
      requests.jwks += 1;
      res.writeHead(issuer.jwksStatus, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ keys: issuer.keys.map((k) => k.jwk) }));
    }
    if (req.url === "/api/auth/introspect" && req.method === "POST") {
      requests.introspect += 1;
      let body = "";
      for await (const chunk of req) body += chunk;
      const answer = await issuer.introspect(body, req.headers);
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      return res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    }
    res.writeHead(404).end();
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  issuer.url = `http://127.0.0.1:${server.address().port}`;
  /** A token like authgate's, signed with `key` (claims overridable, header alg too). */
  issuer.sign = (key, claims = {}, alg = "EdDSA") => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: "session-1", role: "user", jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg, typ: "JWT", kid: key.kid })
      .setIssuer(issuer.url)
      .setAudience("authgate")
      .setSubject(claims.sub ?? "user-1")
      .setIssuedAt(now)
      .setExpirationTime(claims.exp ?? now + 900)
      .sign(key.privateKey);
  };
  issuer.close = () =>
    new Promise((ok) => {
      server.closeAllConnections();
      server.close(ok);
    });
  return issuer;
}
