#!/usr/bin/env bash
# A quick load run against the release binary on a fresh SQLite file (loopback only).
# Measures GET /me, POST /login and POST /register with wrk and prints one line each.
# The full benchmark kit (ceiling ratio, docs/performance.md) is a separate piece of work.
#
#   bench/quick-load.sh            # DURATION=10 CONNECTIONS=64 LOGIN_CONNECTIONS=4
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
LOGIN_CONNECTIONS="${LOGIN_CONNECTIONS:-4}"
PORT="${PORT:-18181}"
BASE="http://127.0.0.1:$PORT/api/auth"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
cargo build --release -q -p authgate
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
AUTHGATE_BIND="127.0.0.1:$PORT" AUTHGATE_DATABASE_URL="sqlite://$work/bench.db" \
  AUTHGATE_RATE_LIMIT_ENABLED=false AUTHGATE_MAIL_OUTBOX="$work/outbox" AUTHGATE_LOG=warn \
  target/release/authgate serve 2>"$work/server.log" &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done

body='{"email":"bench@example.com","password":"Analytical7Engine","name":"Bench"}'
access=$(curl -sf -X POST "$BASE/register" -H 'Content-Type: application/json' -d "$body" \
  | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')

cat >"$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"Analytical7Engine"}'
LUA
cat >"$work/register.lua" <<'LUA'
local n = 0
local salt = tostring({}):gsub("%W", "")
request = function()
  n = n + 1
  local body = string.format('{"email":"u%s-%d@example.com","password":"Analytical7Engine","name":"U"}', salt, n)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
LUA

run() { # name, connections, wrk args...
  local name="$1" conns="$2"; shift 2
  local cpu0; cpu0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  local out; out=$(wrk -t2 -c"$conns" -d"${DURATION}s" --latency "$@")
  local cpu1; cpu1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local errs; errs=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  local cpu_pct; cpu_pct=$(( (cpu1 - cpu0) * 100 / $(getconf CLK_TCK) / DURATION ))
  printf '%-10s rps=%-10s p50=%-9s p99=%-9s non2xx=%-6s server_cpu=%s%% rss_peak=%sMB\n' \
    "$name" "$rps" "$p50" "$p99" "${errs:-0}" "$cpu_pct" \
    "$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$pid/status")"
}
run "GET /me" "$CONNECTIONS" -H "Authorization: Bearer $access" "$BASE/me"
run "login" "$LOGIN_CONNECTIONS" -s "$work/login.lua" "$BASE/login"
run "register" "$LOGIN_CONNECTIONS" -s "$work/register.lua" "$BASE/register"
