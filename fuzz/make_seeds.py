#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into seeds/<target>/ (a starting point
for fuzzing; the committed corpora under corpus/ are what libFuzzer's -merge=1 kept of these
and of what it found). Tokens are signed with the fixed test keys of src/lib.rs."""
import base64, hashlib, hmac, json, os, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NOW = 1_800_000_000
ISS, AUD, KID = "https://auth.example.com", "authgate", "ed25519-fuzz0000000"
HS = b"fuzzing-only-hs256-secret-32-byt"
ED = Ed25519PrivateKey.from_private_bytes(bytes([7] * 32))

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def js(o):
    return json.dumps(o, separators=(",", ":"))

def token(alg, claims, header=None):
    header = header or ({"typ": "JWT", "alg": alg, "kid": KID} if alg == "EdDSA" else {"typ": "JWT", "alg": alg})
    signing_input = b64(js(header).encode()) + "." + b64(js(claims).encode())
    if alg == "EdDSA":
        sig = ED.sign(signing_input.encode())
    elif alg == "HS256":
        sig = hmac.new(HS, signing_input.encode(), hashlib.sha256).digest()
    else:
        sig = b""
    return signing_input + "." + b64(sig)

def claims(**over):
    c = {"iss": ISS, "aud": AUD, "sub": "0190d0c0-0000-7000-8000-000000000001",
         "sid": "0190d0c0-0000-7000-8000-000000000002", "role": "user",
         "iat": NOW - 60, "exp": NOW + 840, "jti": "0190d0c0-0000-7000-8000-000000000003"}
    c.update(over)
    return c

seeds = {
    "token_verify": [
        token("EdDSA", claims()),
        token("HS256", claims()),
        token("EdDSA", claims(exp=NOW - 3600)),
        token("HS256", claims(aud="other")),
        token("none", claims(), {"alg": "none"}),
        # `crit` and a future `nbf` (issue 14, items 3 and 4) belong to token_structured,
        # whose oracle allows for them until their fix lands.
        "eyJhbGciOiJIUzI1NiJ9.e30",
        "a.b.c",
        "",
    ],
    "json_bodies": [
        b"\x00\x01" + js({"email": "ada@example.com", "password": "Analytical7Engine", "name": "Ada"}).encode(),
        b"\x01\x02" + js({"identifier": "ada", "password": "x"}).encode(),
        b"\x02\x01" + b"",
        b"\x03\x01" + js({"refreshToken": "abc", "all": True}).encode(),
        b"\x04\x04" + js({"email": 5}).encode(),
        b"\x05\x01" + js({"token": "t", "newPassword": "N3wPassword"}).encode() + b"}",
        b"\x06\x01" + b'{"currentPassword":"a","newPassword":[1,2]}',
        b"\x07\x05" + b"token=abc&token_type_hint=access_token",
        b"\x07\x01" + b'{"token":"abc"}',
        b"\x00\x06" + b"{}",
        b"\x01\x01" + b'["a@b.co","pw"]',
        b"\x00\x01" + b'{"email":"\\ud800"}',
    ],
    "identifiers": [
        "Ada@Example.COM", "  bob.smith+tag@mail.example.org\t", "jürgen@bücher.de", "用户@例子.广告",
        "Shahroz769", "a.b-c_d", "Zoë O'Brien", "admin", "Correct7Horse", "Password1",
        "ﷺ ﷺ Aa1", "Ⅸ Ⅻ ｆｕｌｌｗｉｄｔｈ Ａ１", "İstanbul@İzmir.tr", "x" * 70 + "@a.co",
    ],
    "smtp_url": [
        "smtp://localhost", "smtp+starttls://ada%40x.org:p%3Ass@mx.example.com:2525",
        "smtps://ada:hunter2@[::1]:4650", "smtps://u:hunter2@mx.example.com/path",
        "smtp://127.0.0.1:25", "smtps://:pw@host", "SMTPS://Mail.Example.COM", "smtp://ex%41mple.com",
    ],
    "config_values": [
        "15m", "2h", "30d", "1h 30m", "0s", "3650d", "3651d", "1year 2months", "500ms",
        "30/min", "5/hour", "10/s", "100/15m", "0/min", "1/1ns",
    ],
}

out = sys.argv[1] if len(sys.argv) > 1 else "seeds"
for target, items in seeds.items():
    os.makedirs(os.path.join(out, target), exist_ok=True)
    for i, item in enumerate(items):
        data = item if isinstance(item, bytes) else item.encode()
        with open(os.path.join(out, target, f"seed-{i:02}"), "wb") as f:
            f.write(data)
print("seeds written to", out)
