#!/usr/bin/env python3
"""Revocation delay across nodes (issue 17): N trials of "log in on node A, warm the session
in node B's cache, log out on A, poll GET /me on B until 401", reporting how long B kept
accepting the revoked session (p50, p99, max). Standard library only.

Usage: measure.py http://127.0.0.1:8081 http://127.0.0.1:8082 [trials=1000]
The nodes must share one PostgreSQL database and run with rate limits off
(AUTHGATE_RATE_LIMIT_ENABLED=false) so a thousand logins from one IP are not refused."""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid

POLL_LIMIT_S = 5.0


def call(method, url, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, {}


def trial(a, b, email, password):
    status, body = call("POST", f"{a}/api/auth/login", {"email": email, "password": password})
    assert status == 200, status
    token = body["accessToken"]
    for _ in range(2):
        assert call("GET", f"{b}/api/auth/me", token=token)[0] == 200
    assert call("POST", f"{a}/api/auth/logout", {}, token)[0] == 200
    start = time.perf_counter()
    while time.perf_counter() - start < POLL_LIMIT_S:
        if call("GET", f"{b}/api/auth/me", token=token)[0] == 401:
            return time.perf_counter() - start
    return float("inf")


def main():
    a, b = sys.argv[1], sys.argv[2]
    trials = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    email, password = f"delay-{uuid.uuid4().hex[:8]}@example.com", "Measure7Delay"
    status, _ = call("POST", f"{a}/api/auth/register",
                     {"email": email, "password": password, "name": "Delay Dana"})
    assert status == 201, status
    delays = sorted(trial(a, b, email, password) for _ in range(trials))
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))] * 1000
    print(f"trials={trials} p50={pick(0.50):.2f}ms p99={pick(0.99):.2f}ms "
          f"max={delays[-1] * 1000:.2f}ms over1s={sum(d > 1 for d in delays)}")


if __name__ == "__main__":
    main()
