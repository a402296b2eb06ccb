#!/usr/bin/env bash
# `make bench`: release builds of the six functions (one cargo invocation of
# their own, so that their features are those of a deployment build) and of
# bench/ (the lambda_http hello world, the criterion benchmarks, the
# harness); `make package` (the arm64 zips, cross-built with cargo-lambda);
# the criterion run; then the harness, which starts the emulator
# and the local stack, measures, and writes docs/performance.md.
# Never part of `make test`: no timing is asserted anywhere.
# BENCH_RUNS (cold starts per function and event, 10) and BENCH_JOURNEYS (5)
# change the number of repetitions.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
target="${CARGO_TARGET_DIR:-target}"
out="$target/bench"
mkdir -p "$out"

echo "== release build of the functions"
cargo build --release --bins \
  -p fn-email-code -p fn-save-draft -p fn-submit -p fn-status -p fn-confirm -p fn-close-windows
echo "== release build of bench/ (hello world, criterion benchmarks, harness)"
cargo build --release -p bench --bins
echo "== make package: the functions' zips for Lambda (arm64, as deployed)"
# Its zips (target/package/zips) are read by the report; a machine that
# cannot cross-build leaves them out, and the report says so.
rm -rf target/package/zips
if ! bash local/package.sh > "$out/package.log" 2>&1; then
  echo "make package failed (see $out/package.log): no arm64 zips in the report"
fi
tail -n 9 "$out/package.log" || true
built=$(date +%s)

echo "== criterion: PDFs and domain operations"
export CRITERION_HOME="$out/criterion"
rm -rf "$CRITERION_HOME"
"$target/release/bench-domain" --bench

echo "== sizes, journeys, cold starts, report"
BENCH_BUILD_SECS=$((built - started)) "$target/release/bench-report"

echo "make bench: $(( $(date +%s) - started )) s in all, of which $((built - started)) s building"
