#!/usr/bin/env bash
# The database cost of one shared-limits check (issue 17): a throwaway PostgreSQL cluster on
# a Unix socket, the shared-limits migration, and pgbench running each statement the limiter
# sends (one per limited request) for a fixed time, one client. Prints latency per statement;
# then the token-bucket step as a Lua script in Redis with redis-benchmark, if installed.
# The store chosen (PostgreSQL) and why: README, "Running several nodes".
# Usage: bash bench/shared-limits/run.sh [seconds per statement, default 10]
set -euo pipefail
secs="${1:-10}"
here="$(cd "$(dirname "$0")" && pwd)"
migration="$here/../../crates/store-sql/migrations/postgres/20250104000000_shared_limits.sql"
bin=/usr/lib/postgresql/15/bin
dir="$(mktemp -d)"
cleanup() {
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
  "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
run_as=()
[ "$(id -u)" = 0 ] && { chown -R nobody "$dir" 2>/dev/null || true; run_as=(runuser -u nobody --); }
"${run_as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U bench >/dev/null
"${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -o "-k $dir -c listen_addresses=''" -l "$dir/log" -w start >/dev/null
export PGHOST="$dir" PGUSER=bench PGDATABASE=postgres
psql -q -f "$migration"
# One IP hammering its own bucket (the common case: a key updated again and again).
cat > "$dir/take.sql" <<'SQL'
INSERT INTO limit_buckets AS b (key, tat_us) VALUES ('ip:refresh:10.0.0.' || (random() * 250)::int, extract(epoch from clock_timestamp())::bigint * 1000000 + 500000)
ON CONFLICT (key) DO UPDATE SET tat_us = GREATEST(b.tat_us, extract(epoch from clock_timestamp())::bigint * 1000000) + 500000
WHERE GREATEST(b.tat_us, extract(epoch from clock_timestamp())::bigint * 1000000) + 500000 - extract(epoch from clock_timestamp())::bigint * 1000000 <= 60000000
RETURNING tat_us;
SQL
cat > "$dir/attempt.sql" <<'SQL'
SELECT wait_ms, lim FROM authgate_begin_attempts(ARRAY['email:u' || (random() * 1000)::int || '@example.com'], '10.0.0.' || (random() * 250)::int, (extract(epoch from clock_timestamp()) * 1000)::bigint, 5, 1000000, 900000, 3600000, 900000);
SQL
for s in take attempt; do
  echo "== $s (one client, ${secs}s)"
  pgbench -n -c 1 -T "$secs" -f "$dir/$s.sql" 2>&1 | grep -E "latency average|tps ="
done

# The same token bucket (GCRA: one "theoretical arrival time" per key, +0.5 s per request,
# refused past 60 s ahead) in Redis, the other shared store issue 17 named: a Lua script,
# so the read-modify-write is atomic as the upsert is, on a Unix socket as PostgreSQL is.
# Debian's redis-server, if installed (apt-get install -y redis-server); skipped otherwise.
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
  redis-server --port 0 --unixsocket "$dir/redis.sock" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 50); do [ -S "$dir/redis.sock" ] && break; sleep 0.1; done
  take_lua="local t = redis.call('TIME') local now = t[1] * 1000000 + t[2]
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
local new = math.max(tat, now) + 500000
if new - now <= 60000000 then redis.call('SET', KEYS[1], new, 'PX', 60000) return new end
return -1"
  n=$((secs * 20000))
  echo "== take in Redis (EVAL of the same GCRA step, one client, $n requests)"
  # --csv: one summary line (requests/s, then latency avg, min, p50, p95, p99, max in ms).
  redis-benchmark -s "$dir/redis.sock" -c 1 -n "$n" -r 250 --csv \
    EVAL "$take_lua" 1 'ip:refresh:10.0.0.__rand_int__' | tail -n 1 | cut -d, -f2-
else
  echo "== take in Redis: skipped (redis-server and redis-benchmark not installed)"
fi
