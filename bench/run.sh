#!/usr/bin/env bash
# bench/run.sh: the benchmark kit (issue 6). One command that regenerates docs/performance.md.
#
# Builds `authgate` and `authgate-bench` in release mode, then runs bench/kit.py, which
# measures on loopback with wrk: the no-database ceiling (GET /verify), GET /me,
# POST /introspect and GET /forward-auth (each judged against /me's rps), login,
# refresh, register, GET /sessions, /me under a login flood, RSS idle and under 1,000
# concurrent logins, and start-up to ready; the same on a seeded store of a million users;
# the PostgreSQL rows, with one node and with three; then the peers of ../shared/peers (their run-all.sh: the Express
# tutorial stack, Better Auth, a bare axum HS256 route) with the same settings; and rewrites
# docs/performance.md (the hand-written part below the `<!-- analysis -->` marker is kept).
# Takes about 5 minutes after the build, plus about 4 for the peers (and their first npm ci),
# plus the seeds (see docs/performance.md for their times) and the PostgreSQL phases.
#
# Needs: the Rust toolchain, python3 (standard library only) and wrk (apt-get install -y wrk).
#
# Environment (defaults in brackets):
#   DURATION [10]  WARMUP [2]  THREADS [2]        seconds per measured run, warm-up, wrk threads
#   CONNECTIONS [64]           GET /me and the ceiling
#   LOGIN_CONNECTIONS [8]  REFRESH_CONNECTIONS [64]  REGISTER_CONNECTIONS [8]
#   FLOOD_CONNECTIONS [16]     the login flood running while /me is measured
#   STORM_CONNECTIONS [1000]  STORM_DURATION [10]   the peak-RSS login storm
#   STARTUP_RUNS [5]           start-up to ready, median of this many
#   HS256 [1]                  also measure the ceiling and /me with HS256 tokens (0: skip)
#   POSTGRES [1]               also run /me, login, refresh, register etc. on PostgreSQL (0: skip)
#   AUTHGATE_BENCH_POSTGRES_URL  postgres://... : run them there (the server migrates the
#                              database itself); unset: the kit starts a throwaway cluster with
#                              Debian's /usr/lib/postgresql/*/bin (initdb -A trust, 127.0.0.1,
#                              a free port, fsync=on; as root it runs as the postgres user) and
#                              there also runs the seeded phase and the several-node rows
#   SEED_USERS [1000000]  SEED_SESSIONS_PER_USER [3]  SEED_AUDIT_EVENTS [10000000]
#                              the seeded store (issue 15 goal 4) on SQLite; SEED_USERS=0 skips
#                              it (on PostgreSQL too). /me, introspection, GET /sessions, login
#                              and refresh of a seeded user, each against the empty store's rps
#   SEED_SQLITE_FROM []        for A/B runs: copy this earlier-seeded SQLite file (made with
#                              the same SEED_USERS) instead of seeding it again
#   SEED_PG_USERS [1000000]  SEED_PG_AUDIT_EVENTS [10000000]  the same on PostgreSQL (0: skip)
#   NODES [3]                  authgate nodes on one PostgreSQL database for /me and refresh
#                              spread over all of them (issue 17); 1: skip
#   REVOCATION_TRIALS [1000]   revocation delay between two of those nodes (0: skip)
#   MAX_IDLE_BUSY [15]         warn when other processes use more than this % of a core
#   IDLE_WAIT [20]             before each run, wait up to this many seconds for that
#   OUT [docs/performance.md]  RESULTS_DIR [bench/results]  (raw wrk output, server logs)
#   PEERS [express-seed express-seed-keyobj better-auth hello-axum]  which peers (none: skip)
#   PEERS_DIR [../shared/peers]  where run-all.sh is
#   AUTHGATE_HASH_*            passed to the server and to the hash timer alike
#
# Cleanup: kit.py stops every process it started (by pid) on exit, Ctrl-C or SIGTERM, and
# its children get SIGKILL if it dies anyway (PR_SET_PDEATHSIG); the temp dir is removed.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=0
if ! command -v wrk >/dev/null; then
  echo "bench/run.sh: wrk is not installed: apt-get install -y wrk" >&2
  missing=1
fi
for tool in python3 cargo; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is not installed" >&2; missing=1; }
done
(( missing == 0 )) || exit 1

# 1,000 concurrent connections need more than the usual 1,024 open files.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cargo build --release -p authgate -p authgate-bench
exec python3 bench/kit.py
