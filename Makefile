# The two commands of the project: `make dev` and `make test`.
# Both install what they need (a Python virtual environment with the pinned
# local tools) and need nothing but the Rust toolchain and python3.

SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha256sum local/requirements.txt | cut -c1-12)
# Contract fuzzing in `make test`: the seed and the number of examples per
# operation, kept here so that a failure can be replayed exactly.
FUZZ_SEED := 20261123
FUZZ_EXAMPLES := 20

.PHONY: dev test venv tools web lint build bench clean-venv admin package

$(STAMP): local/requirements.txt
	@echo "Installing the local tools into $(VENV) (moto server, cfn-lint, schemathesis)…"
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r local/requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

## System tools the tests use, from Debian's packages, installed when
## missing (the machines run as root): pdftotext (poppler-utils) reads the
## PDFs back; chromium runs the portal's browser tests.
tools:
	@missing=""; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## The portal (web/): npm packages from the lock file, then the static
## build into web/dist. npm runs only when the lock file changed.
WEB_STAMP := web/node_modules/.installed-$(shell sha256sum web/package-lock.json | cut -c1-12)
$(WEB_STAMP): web/package-lock.json
	@echo "Installing the portal's npm packages (bootstrap-italia, playwright-core, axe-core)…"
	@cd web && npm ci --no-audit --no-fund --loglevel=error
	@rm -f web/node_modules/.installed-* && touch $@

web: $(WEB_STAMP)
	@node web/build.mjs

## Start the whole system locally on http://127.0.0.1:3000 (PORT overrides).
dev: venv web
	cargo run --quiet -p local --bin devserver

## The admin command against the stack `make dev` is running (its
## emulator and table): make admin ARGS='tenant apply FILE'.
admin:
	@test -f .local-run/stack.json || { echo "make admin: no local stack is running: start it with make dev (in another terminal)"; exit 1; }
	@eval "$$(python3 -c 'import json; d = json.load(open(".local-run/stack.json")); print("export AWS_ENDPOINT_URL=%s TABLE_NAME=%s" % (d["emulator_url"], d["table"]))')" && \
	  AWS_REGION=eu-south-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test ADMIN_TARGET=local \
	  cargo run --quiet -p admin -- $(ARGS)

## Release builds of the functions for Lambda (sam build with
## cargo-lambda), zipped, with their sizes. ARCH=x86_64 where the aarch64
## standard library is not installed.
package: venv
	bash local/package.sh

## Run every test: formatting, lints, unit, handler and end-to-end tests
## against one emulator, and the template lint.
test: venv tools web
	FUZZ_SEED=$(FUZZ_SEED) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) bash local/test.sh

## Formatting and clippy only.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

## Release binaries of every function (what cargo-lambda builds for Lambda).
build:
	cargo build --release --workspace --bins

## Benchmarks, never part of `make test`: cold starts against a Lambda Runtime
## API stand-in, peak memory, binary and zip sizes, criterion (PDFs, domain),
## DynamoDB requests per journey step and the cost model, written to
## docs/performance.md with the machine and the date (local/bench.sh).
bench: venv
	bash local/bench.sh

clean-venv:
	rm -rf $(VENV)
