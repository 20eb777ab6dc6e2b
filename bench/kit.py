#!/usr/bin/env python3
"""The benchmark kit behind `bench/run.sh` (issue 6). Python 3.11 standard library only.

Runs the release binaries that run.sh built, on loopback only, and rewrites
docs/performance.md: every scenario's rps, p50/p99, non-2xx count, server CPU per request,
peak RSS, how busy the machine was, and whether the issue's target is met. Everything below
the `<!-- analysis -->` marker of the existing document is kept verbatim.

Scenarios (wrk, DURATION seconds each after WARMUP seconds of unrecorded load):
  a  ceiling: `authgate-bench ceiling` GET /verify (EdDSA, product's TokenSigner, no database)
  b  GET /api/auth/me with a bearer token                  -> ratio to (a)
  b2 POST /api/auth/introspect (form, caller secret)       -> ratio to (b), >= 80 %
  b3 GET /api/auth/forward-auth with a bearer token         -> ratio to (b), >= 80 %
  b4 GET /api/auth/sessions (3 live sessions), bearer token -> informational, ratio to (b)
  c  POST /api/auth/login (one user)                        -> ratio to cores / hash time
  d  POST /api/auth/refresh, rotating tokens per wrk thread -> must be all 2xx
  e  POST /api/auth/register, unique emails
  f  GET /me while a login flood (a second wrk) saturates the hashing pool
  g  a fresh process: idle RSS, then 1,000 concurrent login attempts: peak RSS
  h  start-up to ready on the existing SQLite file (median of STARTUP_RUNS)
  +  optionally (HS256=1) the ceiling and /me again with HS256 tokens
  i  the seeded store (SEED_USERS > 0): `authgate-bench seed` fills a fresh SQLite file, then
     /me, introspection, GET /sessions, login and refresh for a seeded user, each judged
     against the empty store's rps (>= 90 %); seed time, size per user, peak RSS
  j  PostgreSQL (POSTGRES=1): b-e on AUTHGATE_BENCH_POSTGRES_URL, or else on a throwaway
     cluster the kit starts itself (Debian's /usr/lib/postgresql/*/bin); on that cluster
     also (i) with SEED_PG_* and NODES nodes on one database: /me and refresh spread over
     all of them (CPU per request summed), and the revocation delay between two of them
     (bench/revocation-delay/measure.py)

Server CPU comes from utime+stime in /proc/PID/stat, peak RSS from VmHWM in
/proc/PID/status (reset before each scenario through /proc/PID/clear_refs), wrk's own CPU
from wait4(), the machine's from /proc/stat.
"""

from __future__ import annotations

import ctypes
import datetime
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
AUTHGATE = TARGET_DIR / "release" / "authgate"
BENCH = TARGET_DIR / "release" / "authgate-bench"
MARKER = "<!-- analysis -->"
PASSWORD = "Analytical7Engine"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = len(os.sched_getaffinity(0))


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        sys.exit(f"bench: {name} must be a whole number (got {raw!r})")
    return int(raw)


DURATION = env_int("DURATION", 10)
WARMUP = env_int("WARMUP", 2)
THREADS = env_int("THREADS", 2)
CONNECTIONS = env_int("CONNECTIONS", 64)
LOGIN_CONNECTIONS = env_int("LOGIN_CONNECTIONS", 8)
REFRESH_CONNECTIONS = env_int("REFRESH_CONNECTIONS", 64)
REGISTER_CONNECTIONS = env_int("REGISTER_CONNECTIONS", 8)
FLOOD_CONNECTIONS = env_int("FLOOD_CONNECTIONS", 16)
STORM_CONNECTIONS = env_int("STORM_CONNECTIONS", 1000)
STORM_DURATION = env_int("STORM_DURATION", 10)
STARTUP_RUNS = env_int("STARTUP_RUNS", 5)
MAX_IDLE_BUSY = env_int("MAX_IDLE_BUSY", 15)
IDLE_WAIT = env_int("IDLE_WAIT", 20)
HS256 = env_int("HS256", 1)
PG_URL = os.environ.get("AUTHGATE_BENCH_POSTGRES_URL", "")
POSTGRES = env_int("POSTGRES", 1)
# Issue 15 goal 4: the seeded store, the issue's full size on both backends by default.
SEED_USERS = env_int("SEED_USERS", 1_000_000)
SEED_SESSIONS_PER_USER = env_int("SEED_SESSIONS_PER_USER", 3)
SEED_AUDIT_EVENTS = env_int("SEED_AUDIT_EVENTS", 10_000_000)
# For A/B runs: copy this SQLite file (seeded before with SEED_USERS users by
# `authgate-bench seed`) instead of seeding; the seed row then says so and gives no rates.
SEED_SQLITE_FROM = os.environ.get("SEED_SQLITE_FROM", "")
SEED_PG_USERS = env_int("SEED_PG_USERS", 1_000_000)
SEED_PG_AUDIT_EVENTS = env_int("SEED_PG_AUDIT_EVENTS", 10_000_000)
# Issue 17: several nodes on one PostgreSQL database, and the revocation delay between two.
NODES = env_int("NODES", 3)
REVOCATION_TRIALS = env_int("REVOCATION_TRIALS", 1000)
# Logins after register, so GET /sessions lists a few live sessions.
SESSION_LOGINS = 2
OUT = Path(os.environ.get("OUT", ROOT / "docs" / "performance.md"))
RESULTS = Path(os.environ.get("RESULTS_DIR", ROOT / "bench" / "results")) / time.strftime(
    "%Y%m%d-%H%M%S"
)

# Targets of issue 6.
ME_RATIO, ME_P99_MS = 0.5, 5.0
# Issue 11: introspection and forward-auth, answered from the caches /me uses.
PROTECT_RATIO = 0.8
# Issue 15 goal 4: each scenario on the seeded store within 10 % of the empty store's rps.
SEEDED_RATIO = 0.9
# Issue 17: a session revoked on node A refused on node B within 1 s at p99.
REVOCATION_P99_MS = 1000.0
# The introspection callers' secret every bench server is started with.
INTROSPECTION_SECRET = secrets.token_urlsafe(48)
FLOOD_P99_MS = 10.0
LOGIN_RATIO = 0.9
REFRESH_RPS = 2000.0
IDLE_RSS_MB, STORM_RSS_MB = 30.0, 120.0
STARTUP_MS = 200.0
# Issue 15: GET /me (EdDSA) against the bare axum HS256 /verify of the peers, refresh
# against /me, login and register against cores / hash time.
ME_VS_BARE_AXUM = 0.6
REFRESH_VS_ME = 0.4
# The peers of ../shared/peers, run by its run-all.sh after authgate's scenarios.
PEERS_DIR = Path(os.environ.get("PEERS_DIR", ROOT.parent / "shared" / "peers"))
PEERS = os.environ.get("PEERS", "express-seed express-seed-keyobj better-auth hello-axum")


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes and /proc

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when this script dies (PR_SET_PDEATHSIG)."""
    _libc.prctl(1, signal.SIGKILL)


_children: list[subprocess.Popen] = []


def spawn(args: list[str], out: Path, env: dict[str, str] | None = None,
          owner: tuple[int, int] | None = None) -> subprocess.Popen:
    """Starts a child that dies with this script; as `owner` (uid, gid) when given (CPython
    runs preexec_fn after the uid change, so the death signal survives it)."""
    fh = open(out, "ab")
    ids = {"user": owner[0], "group": owner[1], "extra_groups": []} if owner else {}
    p = subprocess.Popen(
        args, stdout=fh, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent, **ids
    )
    fh.close()
    _children.append(p)
    return p


def stop(p: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; only our own child, by its pid."""
    if p.returncode is None and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in _children:
        _children.remove(p)


def stop_all() -> None:
    for p in list(_children):
        try:
            stop(p, 3.0)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def tree_ticks(root: int) -> int:
    """CPU ticks of `root` (with its reaped children) and of its live children: the
    PostgreSQL postmaster and its backends, which come and go."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == root:
            total += sum(int(x) for x in fields[11:15])
        elif int(fields[1]) == root:
            total += int(fields[11]) + int(fields[12])
    return total


# While the kit's PostgreSQL cluster runs: its CPU ticks, charged to the PostgreSQL rows.
DB_TICKS: Callable[[], int] | None = None


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss(pid: int) -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0), so it is the peak of one scenario."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def machine_ticks() -> int:
    """Busy ticks of the whole machine (all but idle and iowait), summed over all cores."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4]


def machine_busy_pct(seconds: float = 1.0) -> float:
    """How busy the machine is, in % of one core, over `seconds` with nothing of ours running."""
    a = machine_ticks()
    time.sleep(seconds)
    return 100.0 * (machine_ticks() - a) / CLK_TCK / seconds


def wait_idle(label: str) -> float:
    """Waits up to IDLE_WAIT s for the machine to be quiet; returns the last busy reading."""
    deadline = time.time() + IDLE_WAIT
    busy = machine_busy_pct(1.0)
    while busy > MAX_IDLE_BUSY and time.time() < deadline:
        busy = machine_busy_pct(1.0)
    if busy > MAX_IDLE_BUSY:
        log(f"WARNING: the machine is {busy:.0f}% busy before {label}: numbers will be low and noisy")
    return busy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body=None, token: str | None = None, timeout=60.0):
    """One HTTP request; returns (status, parsed JSON body or None)."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return r.status, parsed


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60.0, path: str = "/ready") -> float:
    """Polls `path` tightly until it answers 200; returns the time of that answer."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            conn.close()
            if r.status == 200:
                return time.perf_counter()
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before {path} answered 200")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{path} did not answer 200 within {timeout:.0f} s")
        time.sleep(0.001)


# ------------------------------------------------------------------ the servers


def server_env(port: int, db_url: str, work: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AUTHGATE_BENCH_") and k != "AUTHGATE_CONFIG"
    }
    env.update(
        AUTHGATE_BIND=f"127.0.0.1:{port}",
        AUTHGATE_DATABASE_URL=db_url,
        AUTHGATE_RATE_LIMIT_ENABLED="false",
        AUTHGATE_MAIL_OUTBOX=str(work / "outbox"),
        AUTHGATE_LOG="warn",
        AUTHGATE_INTROSPECTION_SECRETS=INTROSPECTION_SECRET,
    )
    env.update(extra or {})
    return env


class Authgate:
    """One `authgate serve` process."""

    def __init__(self, name: str, db_url: str, work: Path, extra: dict[str, str] | None = None):
        self.name = name
        self.port = free_port()
        self.env = server_env(self.port, db_url, work, extra)
        self.log = RESULTS / f"server-{name}.log"
        self.log_pos = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        """Starts the process; returns ms from exec to the first 200 on /ready."""
        t0 = time.perf_counter()
        self.proc = spawn([str(AUTHGATE), "serve"], self.log, self.env)
        t1 = wait_ready(self.port, self.proc)
        return (t1 - t0) * 1000.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None:
            gone = self.proc.poll()
            if gone is not None:  # e.g. a stray SIGTERM: it drains and exits 0 by itself
                problem(f"{self.name}: the server exited by itself with status {gone} before the kit "
                        f"stopped it, so the scenario before this was cut short (log: {self.log})")
            stop(self.proc)
            if gone is None and self.proc.returncode not in (0, -signal.SIGTERM):
                problem(f"{self.name}: the server exited with status {self.proc.returncode} (log: {self.log})")
            self.proc = None

    def restart(self) -> None:
        """A fresh process on the same database, so one scenario's damage cannot spill over."""
        self.stop()
        self.start()

    def take_errors(self) -> tuple[int, list[str]]:
        """ERROR lines the server logged since the last call, and their distinct causes."""
        with open(self.log, "rb") as f:
            f.seek(self.log_pos)
            text = f.read().decode(errors="replace")
            self.log_pos = f.tell()
        lines = [line for line in text.splitlines() if " ERROR " in line]
        causes: dict[str, int] = {}
        for line in lines:
            m = re.search(r"(?:cause|error)=(.*)$", line)
            if m:
                causes[m.group(1).strip()] = causes.get(m.group(1).strip(), 0) + 1
        return len(lines), [f"{n}× `{c[:160]}`" for c, n in sorted(causes.items(), key=lambda kv: -kv[1])[:3]]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class Ceiling:
    """One `authgate-bench ceiling` process; `token` is the access token it printed."""

    def __init__(self, alg: str):
        self.alg = alg
        self.port = free_port()
        out = RESULTS / f"ceiling-{alg}.out"
        self.proc = spawn([str(BENCH), "ceiling", "--bind", f"127.0.0.1:{self.port}", "--alg", alg], out)
        deadline = time.time() + 30
        self.token = ""
        while not self.token:
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"authgate-bench ceiling did not start (see {out})")
            text = out.read_text()
            m = re.search(r"^token=(\S+)$", text, re.M)
            if m and "listening=" in text:
                self.token = m.group(1)
            time.sleep(0.01)
        status, body = request(self.port, "GET", "/verify", token=self.token)
        if status != 200:
            raise RuntimeError(f"ceiling /verify refused its own token: {status} {body}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop(self.proc)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class PgCluster:
    """A throwaway PostgreSQL cluster in the kit's temp dir, started when
    AUTHGATE_BENCH_POSTGRES_URL is unset and Debian's PostgreSQL is installed: `initdb -A
    trust`, then `postgres` on a free port of 127.0.0.1 (sockets in its own directory) with
    `fsync=on`, durable like a real deployment. `postgres` runs as a child of this script
    rather than daemonized by `pg_ctl`, so it dies with the script however the script ends.
    initdb and postgres refuse root: as root both run as the `postgres` OS user, as
    crates/store-sql/src/testing/cluster.rs does."""

    def __init__(self, bindir: Path, work: Path):
        self.bindir = bindir
        self.root = work / "pg"
        self.root.mkdir(mode=0o700)
        self.owner = postgres_owner()
        if self.owner:
            os.chmod(work, 0o711)  # the postgres user must reach work/pg, not read work
            os.chown(self.root, *self.owner)
        self.log = RESULTS / "postgres.log"
        data = self.root / "data"
        initdb = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
             "--no-locale"],
            capture_output=True, text=True, cwd=self.root, env=self._env(),
            **({"user": self.owner[0], "group": self.owner[1], "extra_groups": []} if self.owner else {}),
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}): {initdb.stdout}{initdb.stderr}")
        self.port = free_port()
        args = [str(bindir / "postgres"), "-D", str(data), "-k", str(self.root),
                "-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-c", "fsync=on"]
        self.proc = spawn(args, self.log, self._env(), self.owner)
        deadline = time.time() + 60
        while not self._ready():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"postgres did not start (see {self.log})")
            time.sleep(0.1)
        log(f"postgres: {bindir.parent.name} on 127.0.0.1:{self.port} (fsync=on), data in {data}")
        global DB_TICKS
        DB_TICKS = lambda: tree_ticks(self.proc.pid)  # noqa: E731

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", HOME=str(self.root))
        return env

    def _ready(self) -> bool:
        return subprocess.run(
            [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
            capture_output=True,
        ).returncode == 0

    def sql(self, statement: str, database: str = "postgres") -> str:
        """One statement through psql (trust authentication); returns its unaligned output."""
        done = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", "postgres", "-d", database, "-c", statement],
            capture_output=True, text=True, env=self._env(),
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql {statement!r}: {done.stderr.strip()}")
        return done.stdout.strip()

    def database(self, name: str) -> str:
        """Creates the database `name`; returns its URL."""
        self.sql(f'CREATE DATABASE "{name}"')
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def size_bytes(self, name: str) -> int:
        return int(self.sql(f"SELECT pg_database_size('{name}')"))

    def stop(self) -> None:
        """Fast shutdown (SIGINT: abort open transactions, checkpoint, exit)."""
        global DB_TICKS
        DB_TICKS = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        stop(self.proc, 30.0)


def postgres_bindir() -> Path | None:
    """The newest `/usr/lib/postgresql/*/bin` holding initdb and postgres (Debian's layout)."""
    found = []
    for d in Path("/usr/lib/postgresql").glob("*/bin"):
        version = d.parent.name.split(".")[0]
        if version.isdigit() and (d / "initdb").is_file() and (d / "postgres").is_file():
            found.append((int(version), d))
    return max(found)[1] if found else None


def postgres_owner() -> tuple[int, int] | None:
    """None when not root; as root, the uid and gid of the `postgres` OS user."""
    if os.getuid() != 0:
        return None
    import pwd

    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root, initdb refuses root, and there is no `postgres` user") from None
    return pw.pw_uid, pw.pw_gid


# ------------------------------------------------------------------ wrk and its Lua

LUA_COMMON = r"""
local threads = {}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("idx", nthreads)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local e = summary.errors
  local extra = ""
  for _, name in ipairs({"empty", "failed", "rotated"}) do
    local s, seen = 0, false
    for _, t in ipairs(threads) do
      local v = t:get(name)
      if v then s = s + v; seen = true end
    end
    if seen then extra = extra .. string.format(" %s=%d", name, s) end
  end
  io.write(string.format(
    "WRKSTAT requests=%d duration_us=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f http_err=%d sock_err=%d timeouts=%d%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write, e.timeout, extra))
end
"""


def lua_str(s: str) -> str:
    return json.dumps(s)  # a JSON string of ASCII is a valid Lua string literal


def lua_get(token: str) -> str:
    return f'wrk.headers["Authorization"] = {lua_str("Bearer " + token)}\n' + LUA_COMMON


def lua_post(body: dict) -> str:
    return (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {lua_str(json.dumps(body))}\n" + LUA_COMMON
    )


def lua_introspect(token: str) -> str:
    """RFC 7662's form body with the caller's secret as bearer (a JWT needs no escaping)."""
    return (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = {lua_str("Bearer " + INTROSPECTION_SECRET)}\n'
        f"wrk.body = {lua_str('token=' + token)}\n" + LUA_COMMON
    )


def lua_register(prefix: str) -> str:
    return (
        f"local prefix = {lua_str(prefix)}\n"
        + r"""
local counter = 0
function request()
  counter = counter + 1
  local body = string.format('{"email":"%s-%d-%d@example.com","password":"PASSWORD","name":"Bench"}',
    prefix, idx, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
""".replace("PASSWORD", PASSWORD)
        + LUA_COMMON
    )


def lua_refresh(pools: list[list[str]]) -> str:
    """Each wrk thread takes its own pool of live refresh tokens, spends one per request and
    queues the successor from each 200 response: a token is never presented twice."""
    table = ",\n".join("{" + ",".join(lua_str(t) for t in pool) + "}" for pool in pools)
    return (
        f"local pools = {{\n{table}\n}}\n"
        + r"""
local q, head, tail = {}, 1, 0
empty, failed, rotated = 0, 0, 0
function init(args)
  for _, t in ipairs(pools[idx]) do tail = tail + 1; q[tail] = t end
end
function request()
  local tok = "queue-empty"
  if head <= tail then tok = q[head]; q[head] = nil; head = head + 1 else empty = empty + 1 end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    '{"refreshToken":"' .. tok .. '"}')
end
function response(status, headers, body)
  local t = status == 200 and body:match('"refreshToken"%s*:%s*"([^"]+)"')
  if t then tail = tail + 1; q[tail] = t; rotated = rotated + 1 else failed = failed + 1 end
end
"""
        + LUA_COMMON
    )


_script_seq = 0


def script_file(text: str, name: str) -> Path:
    global _script_seq
    _script_seq += 1
    path = RESULTS / f"{_script_seq:02d}-{name}.lua"
    path.write_text(text)
    return path


@dataclass
class WrkRun:
    proc: subprocess.Popen
    out: Path


def wrk_start(name: str, url: str, script: Path, conns: int, secs: int, threads: int = THREADS, timeout: str = "10s") -> WrkRun:
    out = RESULTS / f"wrk-{name}.txt"
    out.write_text("")
    args = ["wrk", f"-t{min(threads, conns)}", f"-c{conns}", f"-d{secs}s", f"--timeout={timeout}", "--latency", "-s", str(script), url]
    return WrkRun(spawn(args, out), out)


def wrk_finish(run: WrkRun) -> tuple[dict[str, float], float]:
    """Waits for wrk; returns its WRKSTAT fields and the CPU ms wrk used (from wait4)."""
    _, status, usage = os.wait4(run.proc.pid, 0)
    run.proc.returncode = os.waitstatus_to_exitcode(status)
    if run.proc in _children:
        _children.remove(run.proc)
    text = run.out.read_text()
    m = re.search(r"^WRKSTAT (.*)$", text, re.M)
    if run.proc.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({run.proc.returncode}); see {run.out}:\n{text[-2000:]}")
    stats = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    return stats, (usage.ru_utime + usage.ru_stime) * 1000.0


@dataclass
class Result:
    """One measured scenario."""

    key: str
    label: str
    conns: int
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    requests: int = 0
    non2xx: int = 0
    sock_err: int = 0
    cpu_ms_per_req: float | None = None
    # PostgreSQL's own CPU (postmaster and backends) per request, when the kit runs it
    db_cpu_ms_per_req: float | None = None
    srv_cpu_pct: float = 0.0
    peak_rss_mb: float | None = None
    idle_before: float = 0.0
    other_during: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
    server_errors: int = 0
    target: str = "-"
    verdict: str = ""
    note: str = ""


Script = Path | Callable[[], Path]


def measure(
    key: str,
    label: str,
    target,
    path: str,
    script: Script,
    conns: int,
    warmup_script: Script | None = None,
    secs: int = 0,
    timeout: str = "10s",
) -> Result:
    """One scenario against `target` (Authgate or Ceiling): a fresh server process, idle
    check, warm-up, then the measured wrk run. Scripts may be functions that write one (they
    run after the restart, e.g. to log in fresh sessions). If the server logged errors during
    the measured run, they are reported and the scenario runs once more in a fresh process
    without warm-up (wrk drops its connections with requests in flight when a run ends)."""
    res = measure_once(key, label, target, path, script, conns, warmup_script, secs, timeout, warm=WARMUP > 0)
    if isinstance(target, Authgate) and res.server_errors:
        problem(
            f"{label}: the server logged {res.server_errors} ERROR lines and answered {res.non2xx} of "
            f"{res.requests} requests with errors in the measured run, which followed the warm-up run "
            "(wrk drops its connections with requests in flight when a run ends); measured again "
            "in a fresh process without warm-up"
        )
        first = res
        res = measure_once(key + "-retry", label, target, path, script, conns, None, secs, timeout, warm=False)
        res.key = key
        res.note = (
            f"fresh process, no warm-up (first attempt: {first.non2xx} non-2xx of {first.requests}, see Problems)"
            + ("; " + res.note if res.note else "")
        )
    return res


def measure_once(key, label, target, path, script: Script, conns, warmup_script, secs, timeout, warm: bool) -> Result:
    secs = secs or DURATION
    res = Result(key, label, conns)
    if isinstance(target, Authgate):
        target.restart()
        target.take_errors()
    main = script() if callable(script) else script
    warmup = None
    if warm:
        warmup = warmup_script() if callable(warmup_script) else (warmup_script or main)
    res.idle_before = wait_idle(label)
    if warmup is not None:
        wrk_finish(wrk_start(f"{key}-warmup", target.url(path), warmup, conns, WARMUP, timeout=timeout))
    log(f"{label}: {conns} connections, {secs} s")
    pid = target.pid
    reset_peak_rss(pid)
    db = DB_TICKS
    d0 = db() if db else 0
    t0, m0 = cpu_ticks(pid), machine_ticks()
    stats, wrk_ms = wrk_finish(wrk_start(key, target.url(path), main, conns, secs, timeout=timeout))
    t1, m1 = cpu_ticks(pid), machine_ticks()
    fill(res, stats, wrk_ms, t1 - t0, m1 - m0, pid, True, target if isinstance(target, Authgate) else None)
    if db:
        charge_db(res, db() - d0)
    return res


def charge_db(res: Result, ticks: int) -> None:
    """PostgreSQL's CPU over the measured run, per request; it is part of `other_during` too."""
    if res.requests:
        res.db_cpu_ms_per_req = ticks * 1000.0 / CLK_TCK / res.requests
        log(f"  postgres CPU/req {res.db_cpu_ms_per_req:.3f} ms")


def fill(res: Result, stats: dict, wrk_ms: float, srv_ticks: int, mach_ticks: int, pid: int, cpu_per_request: bool = True, server=None) -> None:
    secs = stats["duration_us"] / 1e6
    res.requests = int(stats["requests"])
    res.rps = res.requests / secs
    res.p50 = stats["p50_us"] / 1000.0
    res.p99 = stats["p99_us"] / 1000.0
    res.non2xx = int(stats["http_err"])
    res.sock_err = int(stats["sock_err"] + stats["timeouts"])
    res.extra = {k: v for k, v in stats.items() if k in ("empty", "failed", "rotated")}
    srv_ms = srv_ticks * 1000.0 / CLK_TCK
    res.srv_cpu_pct = srv_ms / 10.0 / secs
    if cpu_per_request and res.requests:
        res.cpu_ms_per_req = srv_ms / res.requests
    mach_pct = 100.0 * mach_ticks / CLK_TCK / secs
    res.other_during = max(0.0, mach_pct - res.srv_cpu_pct - wrk_ms / 10.0 / secs)
    res.peak_rss_mb = status_kb(pid, "VmHWM") / 1024.0
    bad = []
    if server is not None:
        n, causes = server.take_errors()
        res.server_errors = n
        if n:
            bad.append(f"server logged {n} ERROR lines ({'; '.join(causes) or 'see its log'})")
    if res.non2xx:
        bad.append(f"{res.non2xx} non-2xx")
    if res.sock_err:
        bad.append(f"{res.sock_err} socket errors/timeouts")
    if res.extra.get("empty"):
        bad.append(f"refresh token queue ran dry {int(res.extra['empty'])} times")
    if bad:
        problem(f"{res.label}: " + ", ".join(bad))
        res.note = (res.note + "; " if res.note else "") + ", ".join(bad)
    log(
        f"  rps={res.rps:.1f} p50={res.p50:.2f}ms p99={res.p99:.2f}ms non2xx={res.non2xx} "
        f"sock_err={res.sock_err} srv_cpu={res.srv_cpu_pct:.0f}% peak_rss={res.peak_rss_mb:.1f}MB "
        f"idle_before={res.idle_before:.0f}% other={res.other_during:.0f}%"
    )


PROBLEMS: list[str] = []


def problem(msg: str) -> None:
    PROBLEMS.append(msg)
    log(f"PROBLEM: {msg}")


# ------------------------------------------------------------------ users and sessions


def register(port: int, email: str) -> dict:
    status, body = request(port, "POST", "/api/auth/register", {"email": email, "password": PASSWORD, "name": "Bench"})
    if status != 201 or not body or "accessToken" not in body:
        raise RuntimeError(f"register {email}: {status} {body}")
    return body


def login(port: int, email: str) -> dict:
    status, body = request(port, "POST", "/api/auth/login", {"email": email, "password": PASSWORD})
    if status != 200 or not body or "refreshToken" not in body:
        raise RuntimeError(f"login {email}: {status} {body}")
    return body


def refresh_pools(port: int, email: str, count: int, threads: int) -> list[list[str]]:
    """`count` fresh sessions (logins, in parallel), dealt round-robin into one pool per thread."""
    with ThreadPoolExecutor(max_workers=2 * CORES) as ex:
        tokens = [b["refreshToken"] for b in ex.map(lambda _: login(port, email), range(count))]
    return [tokens[i::threads] for i in range(threads)]


# ------------------------------------------------------------------ the scenarios


def check_me(server: Authgate, token: str, email: str) -> None:
    status, body = request(server.port, "GET", "/api/auth/me", token=token)
    if status != 200 or (body or {}).get("user", {}).get("email") != email:
        raise RuntimeError(f"GET /api/auth/me did not return {email}: {status} {body}")


def check_protect(server: Authgate, token: str, user_id: str) -> None:
    """Introspection says the token is active, forward-auth lets it through: the scenarios
    below measure real answers, not refusals."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/api/auth/introspect", body=f"token={token}",
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Authorization": f"Bearer {INTROSPECTION_SECRET}"})
        r = conn.getresponse()
        body = json.loads(r.read() or b"null")
        if r.status != 200 or not body or body.get("active") is not True or body.get("sub") != user_id:
            raise RuntimeError(f"POST /api/auth/introspect did not find the token active: {r.status} {body}")
        conn.request("GET", "/api/auth/forward-auth", headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        r.read()
        if r.status != 200 or r.getheader("Remote-User-Id") != user_id:
            raise RuntimeError(f"GET /api/auth/forward-auth did not let the token through: {r.status}")
    finally:
        conn.close()


def api_scenarios(server: Authgate, tag: str, prefix: str, results: list[Result], hash_ms: float) -> None:
    """b-e against a running server: /me, introspection, forward-auth, GET /sessions, login,
    refresh, register."""
    email = f"{prefix}@example.com"
    reg = register(server.port, email)
    check_me(server, reg["accessToken"], email)
    check_protect(server, reg["accessToken"], reg["user"]["id"])
    for _ in range(SESSION_LOGINS):  # a user with a few live sessions for GET /sessions
        login(server.port, email)
    check_sessions(server, reg["accessToken"], SESSION_LOGINS + 1)
    results += token_scenarios(server, tag, reg["accessToken"], ("me", "introspect", "forward-auth", "sessions"))
    results += password_scenarios(server, tag, email)

    def emails(name: str) -> Path:  # a new prefix for every run: emails must be unused
        return script_file(lua_register(f"{prefix}-{secrets.token_hex(3)}"), name)

    results.append(
        measure(f"{tag}register", f"POST /api/auth/register{tag_label(tag)}", server, "/api/auth/register",
                lambda: emails(f"{tag}register"), REGISTER_CONNECTIONS,
                warmup_script=lambda: emails(f"{tag}register-warmup"))
    )


# What each bearer-token scenario requests, and how wrk's script is made from the token.
TOKEN_ROUTES: dict[str, tuple[str, str, Callable[[str], str]]] = {
    "me": ("GET", "/api/auth/me", lambda t: lua_get(t)),
    "introspect": ("POST", "/api/auth/introspect", lambda t: lua_introspect(t)),
    "forward-auth": ("GET", "/api/auth/forward-auth", lambda t: lua_get(t)),
    "sessions": ("GET", "/api/auth/sessions", lambda t: lua_get(t)),
}


def token_scenarios(server: Authgate, tag: str, token: str, kinds: tuple[str, ...]) -> list[Result]:
    """The scenarios that present one access token: /me, introspection, forward-auth, sessions."""
    out = []
    for kind in kinds:
        method, path, lua = TOKEN_ROUTES[kind]
        out.append(measure(f"{tag}{kind}", f"{method} {path}{tag_label(tag)}", server, path,
                           script_file(lua(token), f"{tag}{kind}"), CONNECTIONS))
    return out


def password_scenarios(server: Authgate, tag: str, email: str) -> list[Result]:
    """Login with `email` and the kit's password, then refresh of sessions it logs in."""
    out = [
        measure(f"{tag}login", f"POST /api/auth/login{tag_label(tag)}", server, "/api/auth/login",
                script_file(lua_post({"email": email, "password": PASSWORD}), f"{tag}login"), LOGIN_CONNECTIONS)
    ]
    per_pool = 2 * REFRESH_CONNECTIONS
    threads = min(THREADS, REFRESH_CONNECTIONS)

    def sessions(name: str) -> Path:
        log(f"logging in {per_pool} sessions for {name}")
        return script_file(lua_refresh(refresh_pools(server.port, email, per_pool, threads)), name)

    r = measure(f"{tag}refresh", f"POST /api/auth/refresh{tag_label(tag)}", server, "/api/auth/refresh",
                lambda: sessions(f"{tag}refresh"), REFRESH_CONNECTIONS,
                warmup_script=lambda: sessions(f"{tag}refresh-warmup"))
    note_rotations(r)
    out.append(r)
    return out


def note_rotations(r: Result) -> None:
    if r.requests and int(r.extra.get("rotated", -1)) != r.requests:
        # wrk stops with requests in flight; those are not in `requests` but may have rotated.
        r.note = (r.note + "; " if r.note else "") + f"{int(r.extra.get('rotated', 0))} rotations seen"


def check_sessions(server: Authgate, token: str, at_least: int) -> None:
    """GET /sessions lists the caller's live sessions, the current one among them."""
    status, body = request(server.port, "GET", "/api/auth/sessions", token=token)
    listed = (body or {}).get("sessions") or []
    if status != 200 or len(listed) < at_least or not any(s.get("current") for s in listed):
        raise RuntimeError(f"GET /api/auth/sessions did not list {at_least} sessions: {status} {body}")


def tag_label(tag: str) -> str:
    return {"": "", "pg-": " (PostgreSQL)", "hs-": " (HS256)", "seed-": " (seeded SQLite)",
            "pg-seed-": " (seeded PostgreSQL)"}[tag]


def flood_scenario(server: Authgate, email: str) -> tuple[Result, Result]:
    """f: a login flood (started first) saturates hashing; meanwhile GET /me is measured."""
    res = Result("flood-me", "GET /api/auth/me under login flood", CONNECTIONS)
    server.restart()
    token = login(server.port, email)["accessToken"]
    check_me(server, token, email)
    server.take_errors()
    res.idle_before = wait_idle(res.label)
    flood_secs = max(WARMUP, 1) + DURATION + 2
    log(f"login flood: {FLOOD_CONNECTIONS} connections for {flood_secs} s; /me measured after {max(WARMUP, 1)} s")
    reset_peak_rss(server.pid)
    flood = wrk_start("flood-login", server.url("/api/auth/login"),
                      script_file(lua_post({"email": email, "password": PASSWORD}), "flood-login"),
                      FLOOD_CONNECTIONS, flood_secs, timeout="30s")
    time.sleep(max(WARMUP, 1))
    t0, m0 = cpu_ticks(server.pid), machine_ticks()
    me_stats, me_wrk_ms = wrk_finish(wrk_start("flood-me", server.url("/api/auth/me"),
                                               script_file(lua_get(token), "flood-me"), CONNECTIONS, DURATION))
    t1, m1 = cpu_ticks(server.pid), machine_ticks()
    fl_stats, fl_wrk_ms = wrk_finish(flood)
    # CPU per /me request is not meaningful here (the server's CPU is mostly hashing).
    fill(res, me_stats, me_wrk_ms + fl_wrk_ms * DURATION / flood_secs, t1 - t0, m1 - m0, server.pid, cpu_per_request=False, server=server)
    fl = Result("flood-login", "POST /api/auth/login, the flood itself", FLOOD_CONNECTIONS)
    fl.idle_before = res.idle_before
    fill(fl, fl_stats, fl_wrk_ms, 0, 0, server.pid, cpu_per_request=False)
    fl.other_during = res.other_during
    res.note = (res.note + "; " if res.note else "") + f"server CPU {res.srv_cpu_pct:.0f}% of a core during the run"
    return res, fl


def storm_scenario(server: Authgate, email: str) -> Result:
    """g: STORM_CONNECTIONS concurrent login attempts against a fresh process."""
    script = script_file(lua_post({"email": email, "password": PASSWORD}), "storm-login")
    res = Result("storm", f"POST /api/auth/login, {STORM_CONNECTIONS} concurrent (fresh process)", STORM_CONNECTIONS)
    res.idle_before = wait_idle(res.label)
    log(f"{res.label}: {STORM_DURATION} s")
    t0, m0 = cpu_ticks(server.pid), machine_ticks()
    stats, wrk_ms = wrk_finish(wrk_start("storm", server.url("/api/auth/login"), script, STORM_CONNECTIONS,
                                         STORM_DURATION, timeout="60s"))
    t1, m1 = cpu_ticks(server.pid), machine_ticks()
    fill(res, stats, wrk_ms, t1 - t0, m1 - m0, server.pid, server=server)
    res.note = (res.note + "; " if res.note else "") + "latencies of the requests answered within the run"
    return res


# ------------------------------------------------------------------ the seeded store (issue 15 goal 4)


@dataclass
class Seeded:
    """What the seeded phase of one backend measured."""

    backend: str
    tag: str
    users: int
    sessions: int
    audit_events: int
    wall_s: float
    users_s: float
    audit_s: float
    size_bytes: int
    rows: list[Result]
    # The SQLite file copied instead of seeding (SEED_SQLITE_FROM); the times are then 0.
    copied_from: str = ""

    @property
    def peak_rss_mb(self) -> float:
        return max((r.peak_rss_mb or 0.0) for r in self.rows) if self.rows else 0.0


def run_seeder(url: str, users: int, audit: int, name: str) -> tuple[float, float, float]:
    """`authgate-bench seed` into `url`; returns wall seconds, and the seeder's own seconds
    for the users with their sessions and for the audit events."""
    out = RESULTS / f"seed-{name}.out"
    args = [str(BENCH), "seed", "--database-url", url, "--users", str(users),
            "--sessions-per-user", str(SEED_SESSIONS_PER_USER), "--audit-events", str(audit)]
    log(f"seeding {name}: {users:,} users × {SEED_SESSIONS_PER_USER} sessions, {audit:,} audit events")
    t0 = time.perf_counter()
    p = spawn(args, out, {k: v for k, v in os.environ.items() if k != "AUTHGATE_CONFIG"})
    p.wait()
    _children.remove(p)
    wall = time.perf_counter() - t0
    text = out.read_text()
    m = re.search(r"^seeded .*users_s=([\d.]+) audit_s=([\d.]+)", text, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"authgate-bench seed failed ({p.returncode}); see {out}:\n{text[-2000:]}")
    log(f"  seeded in {wall:.1f} s ({m.group(0)})")
    return wall, float(m.group(1)), float(m.group(2))


def sqlite_size(path: Path) -> int:
    """The database file and its write-ahead log."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def seeded_phase(backend: str, tag: str, url: str, users: int, audit: int, work: Path,
                 size: Callable[[], int], extra: dict[str, str] | None = None,
                 copy_from: str = "") -> Seeded:
    """Seeds a fresh store (or copies the SQLite file `copy_from`), then measures /me,
    introspection, GET /sessions, login and refresh for one seeded user (in the middle of the
    id range), each in a fresh server process."""
    if copy_from:
        log(f"copying the seeded store {copy_from} (SEED_SQLITE_FROM) instead of seeding")
        shutil.copyfile(copy_from, url.removeprefix("sqlite://"))
        wall = users_s = audit_s = 0.0
    else:
        wall, users_s, audit_s = run_seeder(url, users, audit, tag.rstrip("-"))
    size_bytes = size()
    server = Authgate(f"{tag}seeded", url, work, extra)
    server.start()
    try:
        email = f"seed{users // 2}@bench.example"
        body = login(server.port, email)
        for _ in range(SESSION_LOGINS - 1):  # with the seeded live one: as many as on the empty store
            login(server.port, email)
        token = body["accessToken"]
        check_me(server, token, email)
        check_protect(server, token, body["user"]["id"])
        check_sessions(server, token, SESSION_LOGINS + 1)
        rows = token_scenarios(server, tag, token, ("me", "introspect", "sessions"))
        rows += password_scenarios(server, tag, email)
    finally:
        server.stop()
    return Seeded(backend, tag, users, users * SEED_SESSIONS_PER_USER, audit, wall, users_s, audit_s, size_bytes, rows,
                  copy_from)


def judge_seeded(seeded: Seeded, empty: list[Result], empty_tag: str, tag: str) -> None:
    """Each seeded row against the same scenario on the empty store of this run."""
    base = {r.key.removeprefix(empty_tag): r for r in empty}
    for r in seeded.rows:
        e = base.get(r.key.removeprefix(tag))
        ratio = r.rps / e.rps if e and e.rps else 0.0
        r.target = (f"≥ {SEEDED_RATIO:.0%} of the empty store's rps in this run: "
                    f"{ratio:.0%} of {e.rps if e else 0:,.0f}")
        r.verdict = verdict(ratio >= SEEDED_RATIO and not (r.non2xx or r.sock_err or r.extra.get("empty")))


def seeded_rows(s: Seeded) -> list[str]:
    """The seed itself, the size per user and the peak RSS, as rows of the Results table."""
    per_user = s.size_bytes / s.users if s.users else 0.0
    rate = f"{s.users / s.users_s:,.0f} users/s (with their sessions)" if s.users_s else "–"
    audit_rate = f"{s.audit_events / s.audit_s:,.0f} audit events/s" if s.audit_s else "–"
    return [
        f"| seed {s.backend}: {s.users:,} users, {s.sessions:,} sessions, {s.audit_events:,} audit events "
        f"(`authgate-bench seed`) | – | – | – | – | – | – | – | – | "
        + (f"copied from {s.copied_from} (SEED_SQLITE_FROM): not timed | |" if s.copied_from else
           f"{s.wall_s:,.0f} s: {rate}, {audit_rate} | |"),
        f"| seeded {s.backend}: database size per user | – | – | – | – | – | – | – | – | "
        f"{per_user:,.0f} bytes ({s.size_bytes / 1e6:,.0f} MB / {s.users:,} users, after the seed) | |",
        f"| seeded {s.backend}: server peak RSS over its runs | – | – | – | – | – | – | {s.peak_rss_mb:.1f} MB | – | "
        f"– (the empty store's rows above for comparison) | |",
    ]


# ------------------------------------------------------------------ several nodes (issue 17)


def measure_nodes(key: str, label: str, nodes: list[Authgate], path: str,
                  scripts: Callable[[str], list[Path]], conns: list[int], threads: int) -> Result:
    """One scenario with one wrk per node, all at once: fresh processes, a warm-up, then the
    measured runs. rps and requests are summed; server CPU per request is the CPU of all nodes
    over all requests; p50/p99 and peak RSS are the worst node's."""
    res = Result(key, label, sum(conns))
    for n in nodes:
        n.restart()
        n.take_errors()
    main = scripts(key)
    warm = scripts(f"{key}-warmup") if WARMUP > 0 else None
    res.idle_before = wait_idle(label)
    if warm:
        runs = [wrk_start(f"{key}-warmup-{i}", n.url(path), w, c, WARMUP, threads) for i, (n, w, c)
                in enumerate(zip(nodes, warm, conns))]
        for w in runs:
            wrk_finish(w)
    log(f"{label}: {sum(conns)} connections over {len(nodes)} nodes, {DURATION} s")
    for n in nodes:
        reset_peak_rss(n.pid)
    db = DB_TICKS
    d0 = db() if db else 0
    t0, m0 = sum(cpu_ticks(n.pid) for n in nodes), machine_ticks()
    runs = [wrk_start(f"{key}-{i}", n.url(path), s, c, DURATION, threads) for i, (n, s, c)
            in enumerate(zip(nodes, main, conns))]
    finished = [wrk_finish(w) for w in runs]
    t1, m1 = sum(cpu_ticks(n.pid) for n in nodes), machine_ticks()
    d1 = db() if db else 0
    rate = sum(st["requests"] / (st["duration_us"] / 1e6) for st, _ in finished)
    requests = sum(st["requests"] for st, _ in finished)
    stats = {
        # the summed rate, as one run of this length would show it
        "requests": requests,
        "duration_us": requests / rate * 1e6 if rate else max(st["duration_us"] for st, _ in finished),
        **{k: max(st[k] for st, _ in finished) for k in ("p50_us", "p99_us")},
        **{k: sum(st.get(k, 0.0) for st, _ in finished)
           for k in ("http_err", "sock_err", "timeouts", "empty", "failed", "rotated")},
    }
    if not any("rotated" in st for st, _ in finished):
        for k in ("empty", "failed", "rotated"):
            del stats[k]
    fill(res, stats, sum(ms for _, ms in finished), t1 - t0, m1 - m0, nodes[0].pid)
    if db:
        charge_db(res, d1 - d0)
    res.peak_rss_mb = max(status_kb(n.pid, "VmHWM") for n in nodes) / 1024.0
    for n in nodes:
        count, causes = n.take_errors()
        res.server_errors += count
        if count:
            problem(f"{label}: {n.name} logged {count} ERROR lines ({'; '.join(causes) or 'see its log'})")
    return res


def split(total: int, parts: int) -> list[int]:
    """`total` connections over `parts` nodes, as evenly as whole numbers allow."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def nodes_phase(cluster: PgCluster, work: Path, run_id: str) -> tuple[list[Result], list[str], list[str]]:
    """NODES `authgate serve` processes on one fresh database with the same public URL: /me and
    refresh with the load spread over all of them, then the revocation delay between two."""
    url = cluster.database("authgate_nodes")
    extra = lambda i: {"AUTHGATE_PUBLIC_URL": "http://bench.example",  # noqa: E731 - the tokens' issuer
                       "AUTHGATE_ADMIN_SOCKET": str(work / f"node{i}.admin.sock")}
    nodes = [Authgate(f"pg-node{i}", url, work, extra(i)) for i in range(NODES)]
    notes: list[str] = []
    for n in nodes:
        n.start()
    try:
        email = f"{run_id}-nodes@example.com"
        reg = register(nodes[0].port, email)
        for n in nodes:  # a token signed by one node is accepted by every node
            check_me(n, reg["accessToken"], email)
        conns = split(CONNECTIONS, NODES)
        threads = max(1, THREADS // NODES)
        label = f"(PostgreSQL, {NODES} nodes)"
        me = measure_nodes("nodes-me", f"GET /api/auth/me {label}", nodes, "/api/auth/me",
                           lambda name: [script_file(lua_get(reg["accessToken"]), f"{name}-{i}")
                                         for i in range(NODES)], conns, threads)
        rconns = split(REFRESH_CONNECTIONS, NODES)

        def pools(name: str) -> list[Path]:
            log(f"logging in {2 * sum(rconns)} sessions over {NODES} nodes for {name}")
            return [script_file(lua_refresh(refresh_pools(n.port, email, 2 * c, threads)), f"{name}-{i}")
                    for i, (n, c) in enumerate(zip(nodes, rconns))]

        refresh = measure_nodes("nodes-refresh", f"POST /api/auth/refresh {label}", nodes,
                                "/api/auth/refresh", pools, rconns, threads)
        note_rotations(refresh)
        rows = [me, refresh]
        extra_rows = []
        if REVOCATION_TRIALS and NODES >= 2:
            extra_rows.append(revocation_delay(nodes[0], nodes[1], notes))
        else:
            extra_rows.append("| revocation on node A refused on node B | – | not run | | | | | | | "
                              "REVOCATION_TRIALS=0 or NODES < 2; or `bash bench/revocation-delay/run.sh` | |")
    finally:
        for n in nodes:
            n.stop()
    return rows, extra_rows, notes


def revocation_delay(a: Authgate, b: Authgate, notes: list[str]) -> str:
    """bench/revocation-delay/measure.py between two running nodes (log in on A, warm B's
    cache, log out on A, poll /me on B until 401, REVOCATION_TRIALS times); returns its row."""
    label = f"revocation on node A refused on node B, {REVOCATION_TRIALS} trials (`bench/revocation-delay/measure.py`)"
    for n in (a, b):
        n.restart()
        n.take_errors()
    idle = wait_idle(label)
    log(f"{label}")
    out = RESULTS / "revocation-delay.txt"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "revocation-delay" / "measure.py"),
                           a.url(""), b.url(""), str(REVOCATION_TRIALS)], capture_output=True, text=True)
    out.write_text(done.stdout + done.stderr)
    log(f"  {done.stdout.strip()}")
    m = re.search(r"trials=(\d+) p50=([\d.]+)ms p99=([\d.]+)ms max=([\w.]+)ms over1s=(\d+)", done.stdout)
    target = f"delay p99 < {REVOCATION_P99_MS:.0f} ms"
    if done.returncode != 0 or not m:
        problem(f"{label}: measure.py failed ({done.returncode}); see {out}")
        return f"| {label} | 1 | – | – | – | – | – | – | {idle:.0f}% / – | {target} | **failed** |"
    for n in (a, b):
        count, causes = n.take_errors()
        if count:
            problem(f"{label}: {n.name} logged {count} ERROR lines ({'; '.join(causes) or 'see its log'})")
    p99 = float(m.group(3))
    notes.append(f"Revocation delay between two nodes: `{m.group(0)}` (in the table, p50/p99 are the delay "
                 "from the logout's 200 on A to the first 401 on B, not request latencies).")
    return (f"| {label} | 1 | – | {float(m.group(2)):.2f} | {p99:.2f} | – | – | – | {idle:.0f}% / – | "
            f"{target}; max {m.group(4)} ms, {m.group(5)} over 1 s | {verdict(p99 < REVOCATION_P99_MS)} |")


def judge_nodes(rows: list[Result], one_node: list[Result]) -> None:
    """Several nodes against one node on PostgreSQL in this run: rps and CPU per request."""
    base = {r.key.removeprefix("pg-"): r for r in one_node}
    for r in rows:
        one = base.get(r.key.removeprefix("nodes-"))
        if one is None:
            continue
        cpu = (f", CPU/req ×{r.cpu_ms_per_req / one.cpu_ms_per_req:.2f}"
               if r.cpu_ms_per_req and one.cpu_ms_per_req else "")
        db = (f"; PostgreSQL's own CPU/req {fmt(one.db_cpu_ms_per_req, '.3f')} → "
              f"{fmt(r.db_cpu_ms_per_req, '.3f')} ms" if r.db_cpu_ms_per_req is not None else "")
        r.target = (f"– (one node: {one.rps:,.0f} rps, {fmt(one.cpu_ms_per_req, '.3f')} ms/req; "
                    f"{NODES} nodes: rps ×{r.rps / one.rps if one.rps else 0:.2f}{cpu}{db})")
        r.verdict = "" if not (r.non2xx or r.sock_err or r.extra.get("empty")) else "**errors**"


def seeded_section(seeded: list[Seeded]) -> Section:
    rows = [r for sd in seeded for r in sd.rows]
    more = [row for sd in seeded for row in seeded_rows(sd)]
    intro = (
        "Issue 15 goal 4: after the empty-store scenarios, `authgate-bench seed` fills a fresh store "
        f"through the store's bulk API (`Store::insert_in_bulk`: the service's insert statements, 500 "
        "users with their sessions per transaction; audit events 1,000 per transaction, oldest "
        f"first) with users `seed<N>@bench.example`, {SEED_SESSIONS_PER_USER} sessions "
        "each (one live, the others expired within the last 12 hours, which the pruner keeps for a "
        "day) and audit events spread over the last 80 days. A server on that store is then measured "
        "as above for the user in the middle of the range, logged in "
        f"{SESSION_LOGINS} times first so that GET /sessions lists as many live sessions as on the empty "
        "store; each row is judged against the same scenario on the empty store of the same backend "
        "in this run. Sizes: "
        + "; ".join(f"{sd.backend} {sd.users:,} users, {sd.audit_events:,} audit events" for sd in seeded)
        + " (SEED_USERS, SEED_AUDIT_EVENTS; on PostgreSQL SEED_PG_USERS, SEED_PG_AUDIT_EVENTS). "
        "The seed rows below give this run's rates. The "
        "database size is the SQLite file and its -wal, or `pg_database_size`, right after the seed; the "
        "peak RSS is the highest VmHWM of the seeded runs (a fresh process each)."
    )
    return "The seeded store", intro, rows, more


def nodes_section(rows: list[Result], more: list[str], one_node: list[Result]) -> Section:
    base = [r for r in one_node if r.key in ("pg-me", "pg-refresh")]
    intro = (
        f"Issue 17: {NODES} `authgate serve` processes on one fresh database of the kit's PostgreSQL "
        "cluster, all with the same `AUTHGATE_PUBLIC_URL` (the tokens' issuer) and the default caches "
        "(on, invalidated through `LISTEN/NOTIFY`). Each scenario restarts them all, then runs one wrk per "
        f"node at the same time ({', '.join(str(c) for c in split(CONNECTIONS, NODES))} connections for /me, "
        f"{', '.join(str(c) for c in split(REFRESH_CONNECTIONS, NODES))} for refresh, "
        f"{max(1, THREADS // NODES)} thread each; refresh tokens from logins on each node). rps is summed "
        "over the nodes; **server CPU / req is the CPU of all nodes over all their requests**, the honest "
        "figure when every process shares the same cores (PostgreSQL's own CPU per request, postmaster and "
        "backends, is in the target column); p50/p99 and peak RSS are the worst node's. The "
        "one-node rows are the PostgreSQL rows of the Results table, repeated here."
    )
    return f"PostgreSQL: one node and {NODES}", intro, base + rows, more


# ------------------------------------------------------------------ the document


def sh(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False).stdout.strip()
    except OSError:
        return "?"


def machine_info() -> dict[str, str]:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    commit = sh(["git", "rev-parse", "--short=12", "HEAD"]) or "?"
    if sh(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes in the working tree)"
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cpu": f"{CORES} cores ({os.cpu_count()} online), {model}",
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": os.uname().release,
        "rustc": sh(["rustc", "--version"]),
        "wrk": wrk_v[0].split(" Copyright")[0] if wrk_v else "?",
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def fmt(v, spec: str, dash: str = "–") -> str:
    return dash if v is None else format(v, spec)


def busy_cell(r: Result) -> str:
    flag = " ⚠" if r.idle_before > MAX_IDLE_BUSY else ""
    return f"{r.idle_before:.0f}% / {r.other_during:.0f}%{flag}"


TABLE_HEAD = ("| scenario | conns | rps | p50 ms | p99 ms | non-2xx | server CPU / req | peak RSS "
              "| machine busy (before / during) | target | |")
TABLE_RULE = "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- | --- |"

# A section after the Results table: its title, a paragraph, its measured rows, other rows.
Section = tuple[str, str, list[Result], list[str]]


def result_row(r: Result) -> str:
    return (
        f"| {r.label} | {r.conns} | {r.rps:,.0f} | {r.p50:.2f} | {r.p99:.2f} | {r.non2xx + r.sock_err}"
        f" | {fmt(r.cpu_ms_per_req, '.3f')}{' ms' if r.cpu_ms_per_req is not None else ''}"
        f" | {fmt(r.peak_rss_mb, '.1f')} MB | {busy_cell(r)} | {r.target} | {r.verdict} |"
    )


def render(info: dict, results: list[Result], extra_rows: list[str], hash_line: str, notes: list[str], analysis: str,
           peers: list[str], sections: list[Section]) -> str:
    seen = {id(r) for r in results}
    every = results + [r for _, _, rows, _ in sections for r in rows if id(r) not in seen]
    busy = [r for r in every if r.idle_before > MAX_IDLE_BUSY]
    lines = [
        "# Performance",
        "",
        "<!-- Generated by bench/run.sh: edit the script, not this part. Everything below the",
        "     analysis marker further down is hand-written and kept as it is by the script. -->",
        "",
        f"- **Date**: {info['date']}",
        f"- **Commit**: `{info['commit']}`",
        f"- **Machine**: {info['cpu']}; {info['ram']} RAM; Linux {info['kernel']}; "
        f"load average at the start {' / '.join(info['loadavg'])}",
        f"- **Versions**: {info['rustc']}; {info['wrk']}",
        f"- **Command**: `bench/run.sh` (DURATION={DURATION} WARMUP={WARMUP} THREADS={THREADS} "
        f"CONNECTIONS={CONNECTIONS} LOGIN_CONNECTIONS={LOGIN_CONNECTIONS} "
        f"REFRESH_CONNECTIONS={REFRESH_CONNECTIONS} REGISTER_CONNECTIONS={REGISTER_CONNECTIONS} "
        f"FLOOD_CONNECTIONS={FLOOD_CONNECTIONS} STORM_CONNECTIONS={STORM_CONNECTIONS} "
        f"SEED_USERS={SEED_USERS} SEED_SESSIONS_PER_USER={SEED_SESSIONS_PER_USER} "
        f"SEED_AUDIT_EVENTS={SEED_AUDIT_EVENTS} SEED_PG_USERS={SEED_PG_USERS} "
        f"SEED_PG_AUDIT_EVENTS={SEED_PG_AUDIT_EVENTS} NODES={NODES} REVOCATION_TRIALS={REVOCATION_TRIALS})",
        f"- **Hash**: `{hash_line}`",
        "",
    ]
    if busy:
        lines += [
            f"> **Warning: the machine was busy** (more than {MAX_IDLE_BUSY}% of a core used by other "
            f"processes in the second before {len(busy)} of {len(every)} runs; see the last column). "
            "Those numbers are low and noisy: re-run on a quiet machine before quoting them.",
            "",
        ]
    lines += [
        "## Method",
        "",
        "`bench/run.sh` builds `authgate` and `authgate-bench` in release mode and runs everything "
        "on loopback on this machine, load generator included: wrk shares the cores with the "
        "server, so compare server CPU per request as well as throughput. The server runs "
        "`authgate serve` on a fresh SQLite file with rate limits off and the default settings "
        "otherwise (EdDSA tokens, argon2id with the parameters above, refresh tokens in body and "
        "cookie; an introspection secret is set, so `POST /introspect` exists). Introspection "
        "(a form body with the caller's secret) and forward-auth (`GET /forward-auth` with the "
        "bearer token) use the token and session `/me` uses, and are judged against the `/me` "
        "row of the same run; `GET /sessions` lists the caller's sessions (three live ones: the "
        "register and two logins) and is shown for information. Each scenario gets "
        f"{WARMUP} s of unrecorded load, then {DURATION} s measured with wrk ({THREADS} threads). "
        "Server CPU is utime+stime from `/proc/PID/stat` over the measured run divided by the "
        "requests completed; peak RSS is `VmHWM`, reset through `/proc/PID/clear_refs` before "
        "each scenario. The ceiling is `authgate-bench ceiling`: a bare axum route on the same "
        "runtime that verifies a token with the product's own `TokenSigner` and no database; "
        "the hash bound is cores / the median single-thread time of one argon2id hash "
        "(`authgate-bench hash-time`). Refresh runs give each wrk thread a queue of live "
        "sessions and spend each rotated token exactly once. *Machine busy* is the machine's "
        "CPU use in the second before the run (should be near 0) / CPU used during the run by "
        "neither the server nor wrk (other processes, and loopback network work charged to "
        "neither), in % of one core.",
        "",
        "## Results",
        "",
        TABLE_HEAD,
        TABLE_RULE,
    ]
    lines += [result_row(r) for r in results]
    lines += extra_rows
    lines += ["", "non-2xx counts HTTP errors plus socket errors and timeouts; it must be 0.", ""]
    for title, intro, rows, more in sections:
        lines += [f"## {title}", "", intro, "", TABLE_HEAD, TABLE_RULE]
        lines += [result_row(r) for r in rows] + more + [""]
    lines += ["## The peers, minutes later in the same run", "",
              "`../shared/peers/run-all.sh` with this run's DURATION, WARMUP, THREADS and CONNECTIONS: "
              "the Express tutorial stack (jsonwebtoken with the secret string, and with a prepared "
              "KeyObject), Better Auth, and a bare axum route verifying an HS256 token (no database). "
              "Their own bench.sh measures them (CPU from `/proc`, like ours).", ""] + peers
    if notes:
        lines += ["### Notes from this run", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["### Problems seen", ""]
    lines += [f"- {p}" for p in PROBLEMS] if PROBLEMS else ["- none: every response was 2xx, no server exited abnormally"]
    lines += ["", "Raw wrk output and server logs of this run: `" + str(RESULTS.relative_to(ROOT) if RESULTS.is_relative_to(ROOT) else RESULTS) + "` (not committed).", ""]
    # the kept part begins with its own line break: add none, or every run adds a blank line
    return "\n".join(lines) + "\n" + MARKER + ("" if analysis.startswith("\n") else "\n") + analysis


def existing_analysis() -> str:
    if OUT.exists():
        text = OUT.read_text()
        if MARKER in text:
            return text.split(MARKER, 1)[1]
    return (
        "\n## Analysis\n\n"
        "_Hand-written: profiles (perf, callgrind) and explanations of the numbers above. "
        "bench/run.sh keeps everything below the marker as it is._\n"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


# ------------------------------------------------------------------ peers


def run_peers() -> list[dict[str, str]]:
    """Runs ../shared/peers/run-all.sh (each peer on a fresh database, measured by its
    bench.sh with this run's DURATION, WARMUP, THREADS and CONNECTIONS) and returns its
    summary lines as dicts (`peer`, `route`, `rps`, `p99_ms`, `srv_cpu_pct`, `vmhwm_mb`, ...)."""
    script = PEERS_DIR / "run-all.sh"
    if PEERS.strip() in ("", "none") or not script.exists():
        log(f"peers: skipped ({script} missing or PEERS=none)")
        return []
    run_dir = RESULTS / "peers"
    env = dict(os.environ, PEERS=PEERS, RUN_DIR=str(run_dir), DURATION=str(DURATION),
               WARMUP=str(WARMUP), THREADS=str(THREADS), CONNECTIONS=str(CONNECTIONS))
    log(f"peers: {PEERS} (output in {run_dir})")
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    (RESULTS / "peers.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        problem(f"the peers' run-all.sh failed (exit {done.returncode}); see {RESULTS / 'peers.log'}")
    summary = run_dir / "summary.txt"
    rows = []
    for line in (summary.read_text().splitlines() if summary.exists() else []):
        fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if "peer" in fields and "rps" in fields:
            rows.append(fields)
    return rows


def peer_cpu_ms(row: dict[str, str]) -> float | None:
    """Server CPU per request in ms, from the peer's CPU use in % of a core and its rps."""
    try:
        return float(row["srv_cpu_pct"]) * 10.0 / float(row["rps"])
    except (KeyError, ValueError, ZeroDivisionError):
        return None


def peer_rows(peers: list[dict[str, str]], ours: dict[str, Result]) -> list[str]:
    """The peers' table: each measurement beside authgate's comparable row of this run."""
    if not peers:
        return ["_The peers were not run (PEERS=none, or no `../shared/peers/run-all.sh`)._", ""]
    lines = [
        "| peer | route | rps | p99 ms | server CPU / req | peak RSS | authgate's comparable row | authgate / peer (rps) |",
        "| --- | --- | --: | --: | --: | --: | --- | --: |",
    ]
    for row in peers:
        route = row.get("route", "")
        if "login" in route or "sign-in" in route:
            mine = ours.get("login")
        elif "register" in route or "sign-up" in route:
            mine = ours.get("register")
        else:  # "who am I", get-session, /verify and /hello
            mine = ours.get("me")
        rps = float(row["rps"])
        ratio = f"{mine.rps / rps:.2f}×" if mine and rps else "–"
        cpu = peer_cpu_ms(row)
        lines.append(
            f"| {row['peer']} | `{route}` | {rps:,.0f} | {row.get('p99_ms', '–')} | "
            f"{fmt(cpu, '.3f')}{' ms' if cpu is not None else ''} | "
            f"{row['vmhwm_mb'] + ' MB' if 'vmhwm_mb' in row else '–'} | "
            f"{mine.label if mine else '–'} | {ratio} |"
        )
    return lines + [""]


# ------------------------------------------------------------------ main


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: sys.exit(128 + s))
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="authgate-bench-"))
    try:
        run(work)
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = STORM_CONNECTIONS + 512
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        log(f"WARNING: open-file limit {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} < {need}: the 1,000-connection run may fail")

    info = machine_info()
    log(f"raw output in {RESULTS}")
    run_id = f"bench-{int(time.time())}-{secrets.token_hex(3)}"
    results: list[Result] = []
    extra_rows: list[str] = []
    notes: list[str] = []

    # Hash time first, on a machine with nothing of ours running.
    hash_out = subprocess.run([str(BENCH), "hash-time", "--iterations", "10"], capture_output=True, text=True, check=True,
                              env={k: v for k, v in os.environ.items() if k != "AUTHGATE_CONFIG"}).stdout
    hash_line = next(line for line in hash_out.splitlines() if line.startswith("hash_time "))
    hash_ms = float(re.search(r"median_ms=([\d.]+)", hash_line).group(1))
    login_bound = CORES * 1000.0 / hash_ms
    log(hash_line)

    # a. the ceiling
    ceiling = Ceiling("eddsa")
    try:
        ceil = measure("ceiling", "ceiling: GET /verify (EdDSA, no database)", ceiling, "/verify",
                       script_file(lua_get(ceiling.token), "ceiling"), CONNECTIONS)
    finally:
        ceiling.stop()
    ceil.target = "reference"
    results.append(ceil)

    # b-e on SQLite
    db = Authgate("sqlite", f"sqlite://{work}/bench.db", work)
    db.start()
    time.sleep(1.0)
    idle_rss = status_kb(db.pid, "VmRSS") / 1024.0
    idle_hwm = status_kb(db.pid, "VmHWM") / 1024.0
    log(f"idle after start on a fresh file: VmRSS {idle_rss:.1f} MB, VmHWM {idle_hwm:.1f} MB")
    sqlite_rows: list[Result] = []
    api_scenarios(db, "", run_id, sqlite_rows, hash_ms)
    email = f"{run_id}@example.com"
    flood_me, flood_login = flood_scenario(db, email)
    db.stop()
    results += sqlite_rows + [flood_me, flood_login]

    # h. start-up on the existing file
    times = []
    for i in range(STARTUP_RUNS):
        s = Authgate("startup", f"sqlite://{work}/bench.db", work)
        times.append(s.start())
        s.stop()
        time.sleep(0.3)
    startup_med = statistics.median(times)
    log(f"start-up to ready: {', '.join(f'{t:.0f}' for t in times)} ms (median {startup_med:.0f})")

    # g. a fresh process: idle RSS, then 1,000 concurrent logins
    fresh = Authgate("storm", f"sqlite://{work}/bench.db", work)
    fresh.start()
    time.sleep(1.0)
    fresh_rss = status_kb(fresh.pid, "VmRSS") / 1024.0
    fresh_hwm = status_kb(fresh.pid, "VmHWM") / 1024.0
    log(f"idle fresh process on the existing file: VmRSS {fresh_rss:.1f} MB, VmHWM {fresh_hwm:.1f} MB")
    storm = storm_scenario(fresh, email)
    fresh.stop()

    # Optional: HS256 ceiling and /me.
    hs_rows: list[Result] = []
    if HS256:
        hs_ceil_proc = Ceiling("hs256")
        try:
            hs_ceil = measure("hs-ceiling", "ceiling: GET /verify (HS256, no database)", hs_ceil_proc, "/verify",
                              script_file(lua_get(hs_ceil_proc.token), "hs-ceiling"), CONNECTIONS)
        finally:
            hs_ceil_proc.stop()
        hs_ceil.target = "reference"
        hs = Authgate("hs256", f"sqlite://{work}/hs256.db", work, {"AUTHGATE_JWT_SECRET": secrets.token_urlsafe(48)})
        hs.start()
        try:
            reg = register(hs.port, email)
            check_me(hs, reg["accessToken"], email)
            hs_me = measure("hs-me", "GET /api/auth/me (HS256)", hs, "/api/auth/me",
                            script_file(lua_get(reg["accessToken"]), "hs-me"), CONNECTIONS)
        finally:
            hs.stop()
        hs_rows = [hs_ceil, hs_me]

    # The seeded store on SQLite (issue 15 goal 4).
    seeded: list[Seeded] = []
    if SEED_USERS:
        path = work / "seeded.db"
        seeded.append(seeded_phase("SQLite", "seed-", f"sqlite://{path}", SEED_USERS, SEED_AUDIT_EVENTS,
                                   work, lambda: sqlite_size(path), copy_from=SEED_SQLITE_FROM))

    # PostgreSQL: the given URL, or a throwaway cluster of our own.
    pg_rows: list[Result] = []
    node_rows: list[Result] = []
    node_extra: list[str] = []
    cluster: PgCluster | None = None
    pg_url = PG_URL
    bindir = postgres_bindir() if POSTGRES and not PG_URL else None
    try:
        if bindir:
            cluster = PgCluster(bindir, work)
            pg_url = cluster.database("authgate_bench")
        if pg_url:
            pg = Authgate("postgres", pg_url, work, {"AUTHGATE_ADMIN_SOCKET": str(work / "pg.admin.sock")})
            pg.start()
            try:
                api_scenarios(pg, "pg-", f"{run_id}-pg", pg_rows, hash_ms)
            finally:
                pg.stop()
        if cluster and SEED_USERS and SEED_PG_USERS:
            seed_db = "authgate_seeded"
            seeded.append(seeded_phase("PostgreSQL", "pg-seed-", cluster.database(seed_db), SEED_PG_USERS,
                                       SEED_PG_AUDIT_EVENTS, work, lambda: cluster.size_bytes(seed_db),
                                       {"AUTHGATE_ADMIN_SOCKET": str(work / "pg-seeded.admin.sock")}))
        if cluster and NODES > 1:
            node_rows, node_extra, node_notes = nodes_phase(cluster, work, run_id)
            notes += node_notes
    finally:
        if cluster:
            cluster.stop()

    # Targets.
    def judge_me(me: Result, ceiling_r: Result) -> None:
        ratio = me.rps / ceiling_r.rps if ceiling_r.rps else 0.0
        me.target = f"≥ {ME_RATIO:.0%} of ceiling, p99 < {ME_P99_MS:.0f} ms: {ratio:.0%} of {ceiling_r.rps:,.0f}"
        me.verdict = verdict(ratio >= ME_RATIO and me.p99 < ME_P99_MS and not (me.non2xx or me.sock_err))

    def judge_login(r: Result) -> None:
        ratio = r.rps / login_bound
        r.target = f"≥ {LOGIN_RATIO:.0%} of cores/hash time: {ratio:.0%} of {login_bound:.1f}/s"
        r.verdict = verdict(ratio >= LOGIN_RATIO and not (r.non2xx or r.sock_err))

    def judge_protect(r: Result, me: Result | None) -> None:
        ratio = r.rps / me.rps if me and me.rps else 0.0
        r.target = f"≥ {PROTECT_RATIO:.0%} of /me in this run: {ratio:.0%} of {me.rps if me else 0:,.0f}"
        r.verdict = verdict(ratio >= PROTECT_RATIO and not (r.non2xx or r.sock_err))

    def judge_refresh(r: Result, me: Result | None) -> None:
        ratio = r.rps / me.rps if me and me.rps else 0.0
        r.target = f"≥ {REFRESH_VS_ME:.0%} of /me in this run, all 2xx: {ratio:.0%} of {me.rps if me else 0:,.0f}"
        r.verdict = verdict(ratio >= REFRESH_VS_ME and not (r.non2xx or r.sock_err or r.extra.get("empty")))

    for rows, ceiling_r in ((sqlite_rows, ceil), (pg_rows, ceil)):
        me_row = next((r for r in rows if r.key.removeprefix("pg-") == "me"), None)
        for r in rows:
            kind = r.key.removeprefix("pg-")
            if kind == "me":
                judge_me(r, ceiling_r)
            elif kind in ("introspect", "forward-auth"):
                judge_protect(r, me_row)
            elif kind == "login":
                judge_login(r)
            elif kind == "refresh":
                judge_refresh(r, me_row)
            elif kind == "register":
                r.target = "– (hash-bound, like login)"
                r.verdict = "" if not (r.non2xx or r.sock_err) else "**errors**"
            elif kind == "sessions":
                ratio = r.rps / me_row.rps if me_row and me_row.rps else 0.0
                r.target = f"– (informational: {ratio:.0%} of /me; {SESSION_LOGINS + 1} live sessions listed)"
                r.verdict = "" if not (r.non2xx or r.sock_err) else "**errors**"
    if hs_rows:
        judge_me(hs_rows[1], hs_rows[0])
    flood_me.target = f"p99 < {FLOOD_P99_MS:.0f} ms"
    flood_me.verdict = verdict(flood_me.p99 < FLOOD_P99_MS and not (flood_me.non2xx or flood_me.sock_err))
    flood_login.target = f"({flood_login.rps / login_bound:.0%} of cores/hash time)"
    storm.target = f"peak RSS < {STORM_RSS_MB:.0f} MB"
    storm.verdict = verdict((storm.peak_rss_mb or 1e9) < STORM_RSS_MB)
    results += [storm] + hs_rows + pg_rows
    for sd in seeded:
        empty_rows, empty_tag = (pg_rows, "pg-") if sd.backend == "PostgreSQL" else (sqlite_rows, "")
        judge_seeded(sd, empty_rows, empty_tag, sd.tag)
    judge_nodes(node_rows, pg_rows)

    idle_peak = max(idle_hwm, fresh_hwm)
    extra_rows += [
        f"| idle after start-up, fresh file / fresh process on the used file | – | – | – | – | – | – | "
        f"RSS {idle_rss:.1f} / {fresh_rss:.1f} MB, peak {idle_hwm:.1f} / {fresh_hwm:.1f} MB | – | "
        f"peak RSS < {IDLE_RSS_MB:.0f} MB | {verdict(idle_peak < IDLE_RSS_MB)} |",
        f"| start-up to ready, existing SQLite file (median of {len(times)}) | – | – | {startup_med:.0f} | {max(times):.0f} (max) | – | – | – | – | "
        f"< {STARTUP_MS:.0f} ms | {verdict(startup_med < STARTUP_MS)} |",
    ]
    if not pg_url:
        extra_rows.append("| PostgreSQL (/me, login, refresh, register) | – | not run | | | | | | | "
                          "install Debian's postgresql or set AUTHGATE_BENCH_POSTGRES_URL (POSTGRES=0 skips) | |")

    notes.append(
        f"Hash bound: {CORES} cores × 1000 / {hash_ms:.1f} ms = {login_bound:.1f} logins/s "
        f"(`authgate-bench hash-time`, median of 10 on one thread)."
    )
    notes.append(f"Start-up to ready, each run (ms, exec to first 200 on /ready): {', '.join(f'{t:.0f}' for t in times)}.")
    for r in results + [r for sd in seeded for r in sd.rows] + node_rows:
        if r.key.endswith("refresh") and "rotated" in r.extra:
            notes.append(f"{r.label}: {int(r.extra['rotated'])} rotations seen by wrk, "
                         f"{int(r.extra.get('failed', 0))} responses without a new token.")
    notes.append(
        f"{storm.label}: {storm.requests} logins answered in {STORM_DURATION} s at "
        f"{storm.rps:.1f}/s; the other connections were still queued for a hashing slot when wrk "
        "stopped (wrk timeout 60 s), so p50/p99 are of the answered ones only."
    )
    if PG_URL:
        where = re.sub(r"//[^@/]*@", "//", PG_URL)
        notes.append(f"PostgreSQL rows: server at `{where}` (credentials left out), migrated by authgate at start; "
                     "the seeded and several-node phases need the kit's own cluster (unset the URL) and were skipped.")
    elif cluster:
        notes.append(f"PostgreSQL rows: a throwaway cluster the kit started ({bindir.parent.name}, `initdb -A trust`, "
                     "on 127.0.0.1, `fsync=on`, default settings otherwise), one fresh database each for the "
                     "empty store, the seeded store and the several nodes; removed at the end.")
    db_rows = [r for r in results + [r for sd in seeded for r in sd.rows] + node_rows
               if r.db_cpu_ms_per_req is not None]
    if db_rows:
        notes.append("PostgreSQL's own CPU per request (postmaster and backends, from `/proc`; not in the "
                     "server CPU column, part of *during* in the busy column): "
                     + "; ".join(f"{r.label.replace('/api/auth', '')} {r.db_cpu_ms_per_req:.3f} ms" for r in db_rows)
                     + ".")
    for sd in seeded:
        per_user = sd.size_bytes / sd.users if sd.users else 0
        if sd.copied_from:  # no seed was timed
            notes.append(f"Seeded {sd.backend}: copied from {sd.copied_from} ({sd.users:,} users); "
                         f"{sd.size_bytes / 1e6:,.0f} MB on disk; server peak RSS {sd.peak_rss_mb:.1f} MB.")
            continue
        notes.append(
            f"Seeded {sd.backend}: `authgate-bench seed` wrote {sd.users:,} users ({sd.users / sd.users_s:,.0f}/s with "
            f"{SEED_SESSIONS_PER_USER} sessions each, {sd.users_s:,.0f} s) and {sd.audit_events:,} audit events "
            f"({sd.audit_events / sd.audit_s if sd.audit_s else 0:,.0f}/s, {sd.audit_s:,.0f} s); {sd.wall_s:,.0f} s "
            f"wall; {sd.size_bytes / 1e6:,.0f} MB on disk = {per_user:,.0f} bytes per user; server peak RSS "
            f"{sd.peak_rss_mb:.1f} MB over the seeded runs."
        )
    overrides = sorted(k for k in os.environ if k.startswith("AUTHGATE_") and not k.startswith("AUTHGATE_BENCH_") and k != "AUTHGATE_CONFIG")
    if overrides:
        notes.append("Server environment overrides from the caller: " + ", ".join(f"`{k}`" for k in overrides) + ".")

    # The peers last, each on a quiet machine after ours have stopped.
    peers = run_peers()
    ours = {r.key: r for r in sqlite_rows}
    bare = next((p for p in peers if p.get("peer") == "hello-axum" and "verify" in p.get("route", "")), None)
    if bare and "me" in ours:
        me = ours["me"]
        ratio = me.rps / float(bare["rps"])
        extra_rows.append(
            f"| GET /api/auth/me (EdDSA) against the peers' bare axum HS256 GET /verify | {CONNECTIONS} | "
            f"{me.rps:,.0f} | | | | | | | ≥ {ME_VS_BARE_AXUM:.0%} of {float(bare['rps']):,.0f}: {ratio:.0%} | "
            f"{verdict(ratio >= ME_VS_BARE_AXUM)} |"
        )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    sections = [seeded_section(seeded)] if seeded else []
    if node_rows:
        sections.append(nodes_section(node_rows, node_extra, pg_rows))
    OUT.write_text(render(info, results, extra_rows, hash_line, notes, existing_analysis(), peer_rows(peers, ours),
                          sections))
    log(f"wrote {OUT}")
    print(OUT.read_text().split(MARKER, 1)[0])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
