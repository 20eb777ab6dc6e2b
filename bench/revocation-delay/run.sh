#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster and two authgate nodes on it (loopback only), then
# runs measure.py. Usage: bash bench/revocation-delay/run.sh [trials] (AUTHGATE_BIN selects
# the binary; default target/release/authgate, build it with cargo build --release).
set -euo pipefail
trials="${1:-1000}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${AUTHGATE_BIN:-$root/target/release/authgate}"
pg=/usr/lib/postgresql/15/bin
dir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$pg/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
run_as=()
[ "$(id -u)" = 0 ] && { chown -R nobody "$dir"; run_as=(runuser -u nobody --); }
"${run_as[@]}" "$pg/initdb" -D "$dir/data" -A trust -U bench >/dev/null
"${run_as[@]}" "$pg/pg_ctl" -D "$dir/data" -o "-p 55432 -k $dir -c listen_addresses=127.0.0.1" -l "$dir/pg.log" -w start >/dev/null
for port in 18081 18082; do
  AUTHGATE_DATABASE_URL="postgres://bench@127.0.0.1:55432/postgres?sslmode=disable" \
  AUTHGATE_BIND="127.0.0.1:$port" AUTHGATE_PUBLIC_URL=http://auth.bench.test \
  AUTHGATE_RATE_LIMIT_ENABLED=false AUTHGATE_ADMIN_SOCKET=off AUTHGATE_MAIL_OUTBOX="$dir/outbox-$port" \
    "$bin" serve 2>"$dir/node-$port.log" &
  pids+=($!)
done
for port in 18081 18082; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
done
python3 "$root/bench/revocation-delay/measure.py" http://127.0.0.1:18081 http://127.0.0.1:18082 "$trials"
