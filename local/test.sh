#!/usr/bin/env bash
# `make test`: one emulator on a free port for the whole run, every test in
# one cargo invocation, the template lint; the emulator is stopped at the
# end, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
mkdir -p target
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=target/test-emulator.log
"$venv/bin/python" local/emulator.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
emulator_pid=$!
cleanup() {
  kill "$emulator_pid" 2>/dev/null || true
  wait "$emulator_pid" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$emulator_pid" 2>/dev/null; then
    echo "the emulator did not start; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_REGION=eu-south-1 AWS_DEFAULT_REGION=eu-south-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
export RUST_LOG="${RUST_LOG:-warn}"

echo "== formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
python3 scripts/import-cycles.py shared/src local/src

echo "== template lint"
"$venv/bin/cfn-lint" infra/template.yaml
echo "template: cfn-lint clean"

echo "== tests (emulator on port $port)"
export TEST_LOG_DIR="$PWD/target/test-logs"
rm -rf "$TEST_LOG_DIR"
mkdir -p "$TEST_LOG_DIR"
# Every AWS call a function makes in the tests, the fuzzing and the browser
# runs, recorded for the IAM check at the end (local/src/iam.rs).
export IAM_CALLS_FILE="$TEST_LOG_DIR/aws-calls.jsonl"
if ! cargo test --workspace --quiet 2>&1 | tee target/test-output.log; then
  # What the stack and the emulator said about it, for a failure on CI.
  echo "== errors in the test logs" >&2
  grep -h '"level":"ERROR"' "$TEST_LOG_DIR"/*.log 2>/dev/null | tail -n 20 >&2 || true
  echo "== emulator tracebacks" >&2
  grep -A 12 '^Traceback' "$log" | tail -n 40 >&2 || true
  exit 1
fi

echo "== contract fuzzing"
bash local/fuzz.sh

echo "== browser tests (Debian's Chromium, 375 px parent journey, desktop staff decision, keyboard only, axe-core)"
rm -rf target/e2e
cargo build --quiet -p local --bin devserver
if (cd web && E2E_OUT="$PWD/../target/e2e" node --test --test-concurrency=1 --test-reporter=tap tests/) 2>&1 | tee target/e2e-output.log; then
  e2e_status=0
else
  e2e_status=1
fi
python3 - <<'PY'
import json
rows = [json.loads(l) for l in open("target/e2e/axe.jsonl", encoding="utf-8")]
bad = sum(len(r["violations"]) for r in rows)
print(f"axe-core: {len(rows)} page states checked, {bad} violations")
PY
echo "screenshots: target/e2e/screenshots/"
[ "$e2e_status" = 0 ] || { echo "browser tests failed" >&2; exit 1; }

echo "== IAM: each recorded call against its function's policy in the template"
cargo run --quiet -p local --bin iam-check -- "$IAM_CALLS_FILE"

echo "== log scan"
"$venv/bin/python" local/log_scan.py "$TEST_LOG_DIR" target/fuzz/devserver.log

# One closing line for the whole run (cargo prints one per test binary,
# the last of which is often an empty doc-test run).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^# pass / { p += $3 } /^# fail / { f += $3 }
     END { printf "total: %d passed, %d failed\n", p, f }' target/test-output.log target/e2e-output.log
