#!/usr/bin/env bash
# Contract fuzzing, part of `make test`: schemathesis generates requests from
# docs/openapi.json and sends them to the dev server (against the emulator
# that test.sh started). Every response must be documented (status, content
# type, headers, schema) and none may be a 5xx; schema-violating requests
# must be refused. Parent operations run with a real session (SPID and a
# verified email) and a real application; staff operations with a staff token.
# Reproduce a failure with the same FUZZ_SEED and FUZZ_EXAMPLES (Makefile).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${AWS_ENDPOINT_URL:?run through make test}"
seed="${FUZZ_SEED:-20261123}"
examples="${FUZZ_EXAMPLES:-20}"
venv=.venv
out=target/fuzz
mkdir -p "$out"

cargo build --quiet -p local --bin devserver
bin="${CARGO_TARGET_DIR:-target}/debug/devserver"
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT="$port" RUST_LOG=info "$bin" >"$out/devserver.log" 2>&1 &
server_pid=$!
stop() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
trap stop EXIT INT TERM
base="http://127.0.0.1:$port"

# A session with both identities, a renewal draft to aim at, a staff token.
"$venv/bin/python" local/fuzz_setup.py "$base" "$out"

config="$out/schemathesis.toml"
cat >"$config" <<TOML
[parameters]
"path.tenant" = "demo"
"path.id" = "$(cat "$out/application_id")"
TOML

run() {
  local name=$1 token=$2; shift 2
  echo "-- fuzzing the $name operations (seed $seed, $examples examples each)"
  "$venv/bin/schemathesis" --config-file "$config" run docs/openapi.json \
    --url "$base" -H "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance \
    --phases examples,coverage,fuzzing --max-examples "$examples" --seed "$seed" \
    --workers 1 --no-color --output-truncate true \
    --report junit --report-junit-path "$out/$name.xml" "$@"
}
run parent "$(cat "$out/parent_token")" --exclude-tag staff
run staff "$(cat "$out/staff_token")" --include-tag staff
echo "fuzz: no 5xx, every response as documented"
