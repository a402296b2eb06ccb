#!/usr/bin/env bash
# The PDFs' fonts (shared/assets/fonts) are DejaVu Sans 2.37 (regular and
# bold) subset to the scripts a family's names and the office's texts are
# written in: Latin (with its extensions and combining marks), Greek,
# Cyrillic, punctuation, currency, arrows, maths, boxes and common symbols,
# without hinting (a PDF needs none). The whole fonts are 1.47 MB of every
# function's binary; the subsets about 0.5 MB. A character outside them is
# printed as `?`, as one the full font lacks always was.
#
# Run from a checkout of the full fonts (git show <rev>:shared/assets/...)
# with fonttools from PyPI (4.68 made the committed files):
#   python3 -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools
#   FULL=/path/to/full/fonts bash scripts/subset-fonts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ranges="U+0020-007E,U+00A0-036F,U+0370-03FF,U+0400-052F,U+1E00-1EFF,U+2000-206F,U+20A0-20CF,U+2100-214F,U+2190-21FF,U+2200-22FF,U+2500-25FF,U+2600-26FF,U+2700-27BF,U+FB00-FB06,U+FFFD"
for f in DejaVuSans DejaVuSans-Bold; do
  "${PYFTSUBSET:-/tmp/ft/bin/pyftsubset}" "${FULL:?the folder of the full fonts}/$f.ttf" \
    --unicodes="$ranges" --no-hinting --layout-features='*' \
    --output-file="shared/assets/fonts/$f.ttf"
done
