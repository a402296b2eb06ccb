#!/usr/bin/env bash
# `make package`: `sam build` of every function for Lambda with
# cargo-lambda (release, arm64 as the template says; ARCH=x86_64 for a
# machine without the aarch64 standard library), then each function's zip
# as SAM uploads it, with its size. Not part of `make test`: a release
# build of the SDKs takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp="$venv/.package-$(sha256sum local/package-requirements.txt | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "Installing aws-sam-cli, cargo-lambda and zig into $venv…"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r local/package-requirements.txt
  touch "$stamp"
fi
export PATH="$PWD/$venv/bin:$PATH" SAM_CLI_TELEMETRY=0
arch="${ARCH:-arm64}"
case "$arch" in
  arm64) target=aarch64-unknown-linux-gnu ;;
  x86_64) target=x86_64-unknown-linux-gnu ;;
  *) echo "ARCH is arm64 or x86_64" >&2; exit 2 ;;
esac
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  echo "Installing the Rust standard library for $target (rustup)…"
  if ! rustup target add "$target"; then
    echo "make package: the Rust standard library for $target cannot be installed." >&2
    echo "  ARCH=x86_64 make package builds for x86_64" >&2
    exit 1
  fi
fi
template=infra/template.yaml
if [ "$arch" != arm64 ]; then
  # Beside the template: its CodeUri (../) is the workspace.
  template=infra/.template-$arch.yaml
  sed 's/^      - arm64$/      - x86_64/' infra/template.yaml > "$template"
  trap 'rm -f "$template"' EXIT
fi
start=$(date +%s)
sam build --template-file "$template" --beta-features --build-dir target/package/sam-build
end=$(date +%s)
echo "sam build ($arch): $((end - start)) s"
# Each function's zip as SAM uploads it (deflate, the bootstrap only).
"$venv/bin/python" - <<'PY'
import os, zipfile
root = "target/package/sam-build"
os.makedirs("target/package/zips", exist_ok=True)
total = 0
for name in sorted(os.listdir(root)):
    boot = os.path.join(root, name, "bootstrap")
    if not os.path.isfile(boot):
        continue
    out = os.path.join("target/package/zips", name + ".zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(boot, "bootstrap")
    size = os.path.getsize(out)
    total += size
    print(f"{name:<26} bootstrap {os.path.getsize(boot) / 2**20:6.1f} MB  zip {size / 2**20:5.1f} MB")
print(f"all functions: {total / 2**20:.1f} MB of zips")
PY
