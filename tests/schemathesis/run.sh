#!/usr/bin/env bash
# The OpenAPI document against the real binary: validate it (openapi-spec-validator), then
# let schemathesis call every operation with generated requests and check that no answer is
# a 5xx and that every status, content type, header and body is the one the document
# describes. Any failure fails the script (and `.ci/run`).
#
#   cargo build -p authgate && bash tests/schemathesis/run.sh
#
# Needs target/test-venv with the pinned tools (`.ci/run` installs them):
#   target/test-venv/bin/python -m pip install schemathesis==4.32.5 openapi-spec-validator==0.9.0
# SCHEMATHESIS_MAX_EXAMPLES (default 50) bounds the generated cases per operation and phase.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${AUTHGATE_BIN:-target/debug/authgate}
VENV=${AUTHGATE_TEST_VENV:-target/test-venv}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-50}
for tool in "$BIN" "$VENV/bin/schemathesis" "$VENV/bin/openapi-spec-validator"; do
  [ -x "$tool" ] || { echo "missing $tool (see the header of $0)" >&2; exit 1; }
done

work=$(mktemp -d)
port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
rate=100000/min

# A server of its own: a fresh SQLite file, fast hashing, limits far above what the run
# sends (the 429s stay documented; the run should reach the handlers), introspection on.
env AUTHGATE_BIND="127.0.0.1:$port" \
  AUTHGATE_PUBLIC_URL="$base" \
  AUTHGATE_DATABASE_URL="sqlite://$work/authgate.db" \
  AUTHGATE_MAIL_OUTBOX="$work/mail-outbox" \
  AUTHGATE_HASH_MEMORY_KIB=64 AUTHGATE_HASH_ITERATIONS=1 \
  AUTHGATE_RATE_LIMIT_LOGIN=$rate AUTHGATE_RATE_LIMIT_REGISTER=$rate \
  AUTHGATE_RATE_LIMIT_REFRESH=$rate AUTHGATE_RATE_LIMIT_FORGOT_PASSWORD=$rate \
  AUTHGATE_RATE_LIMIT_RESET_PASSWORD=$rate AUTHGATE_RATE_LIMIT_RESEND_VERIFICATION=$rate \
  AUTHGATE_RATE_LIMIT_VERIFY_EMAIL=$rate AUTHGATE_RATE_LIMIT_FORGOT_PER_EMAIL=$rate \
  AUTHGATE_RATE_LIMIT_RESEND_PER_ACCOUNT=$rate AUTHGATE_LOGIN_FREE_ATTEMPTS=100 \
  AUTHGATE_INTROSPECTION_SECRETS=schemathesis-introspection-secret-0123456789 \
  AUTHGATE_LOG=warn \
  "$BIN" serve >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

echo "== openapi-spec-validator"
curl -fsS "$base/api/auth/openapi.json" -o "$work/openapi.json"
"$VENV/bin/openapi-spec-validator" "$work/openapi.json"

# A user, so the operations behind a bearer token are reached, not only their 401s. The
# run may end this session (logout, change-password): what follows is then a documented 401.
token=$(curl -fsS -X POST "$base/api/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"schemathesis@example.com","password":"Analytical7Engine","name":"Schema Thesis"}' |
  "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["accessToken"])')

# Two runs: everything but logout (which would end the run's session, leaving the other
# operations only their 401s), then logout alone.
schemathesis() {
  "$VENV/bin/schemathesis" run "$base/api/auth/openapi.json" \
    --url "$base" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --seed 14 \
    --workers 2 \
    --request-timeout 10 \
    --suppress-health-check too_slow,filter_too_much \
    -H "Authorization: Bearer $token" \
    "$@"
}
echo "== schemathesis ($MAX_EXAMPLES examples per operation and phase)"
status=0
schemathesis --exclude-path /api/auth/logout || status=$?
schemathesis --include-path /api/auth/logout || status=$?
if [ "$status" -ne 0 ]; then
  echo "-- server log" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
