"""The log scan of `make test`: no log line of the whole run (the stacks of
the test binaries, the fuzzed dev server) may contain any secret that the
tests used: email addresses, fiscal codes, security codes, passwords,
tokens (collected by the tests in <dir>/*.secrets). Names of the seeded
people are added here. Prints where a secret was found, never the secret."""

import glob
import os
import re
import sys

log_dir = sys.argv[1]
extra_logs = sys.argv[2:]
secrets = set()
for path in glob.glob(os.path.join(log_dir, "*.secrets")):
    with open(path, encoding="utf-8") as f:
        secrets.update(line.strip() for line in f if len(line.strip()) >= 6)
# The seeded roster and the fuzzing session.
secrets.update(["SPSGLI16C54C983Q", "SPSMRC82L09A662D", "FRRLCU15R02C983A",
                "FRRPLA85T60A662Y", "marco.esposito@example.it", "paola.ferri@example.it",
                "fuzz-parent@example.it", "Esposito", "Giulia"])
# Upper-case variants: fiscal codes and addresses may be normalised.
secrets |= {s.upper() for s in secrets} | {s.lower() for s in secrets}

# A secret counts only as a whole token: a 6-digit code inside a timestamp's
# microseconds or a hex request id is a coincidence, not a leak.
pattern = re.compile(
    r"(?<![0-9A-Za-z])("
    + "|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))
    + r")(?![0-9A-Za-z])"
)
logs = glob.glob(os.path.join(log_dir, "*.log")) + [p for p in extra_logs if os.path.exists(p)]
lines = 0
found = []
for path in logs:
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            lines += 1
            m = pattern.search(line)
            if m:
                s = m.group(1)
                found.append(f"{path}:{number}: a secret of {len(s)} characters ({s[:2]}…)")
if not logs or lines == 0:
    sys.exit(f"log scan: no logs under {log_dir}")
for hit in found[:50]:
    print(hit)
if found:
    sys.exit(f"log scan: {len(found)} log lines carry personal data or secrets")
print(f"log scan: {lines} log lines of {len(logs)} files, {len(secrets)} secrets, none found")
