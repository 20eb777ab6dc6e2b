#!/usr/bin/env bash
# The database cost of one shared-limits check (issue 17): a throwaway PostgreSQL cluster on
# a Unix socket, the shared-limits migration, and pgbench running each statement the limiter
# sends (one per limited request) for a fixed time, one client. Prints latency per statement.
# Usage: bash bench/shared-limits/run.sh [seconds per statement, default 10]
set -euo pipefail
secs="${1:-10}"
here="$(cd "$(dirname "$0")" && pwd)"
migration="$here/../../crates/store-sql/migrations/postgres/20250104000000_shared_limits.sql"
bin=/usr/lib/postgresql/15/bin
dir="$(mktemp -d)"
trap '"$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
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
