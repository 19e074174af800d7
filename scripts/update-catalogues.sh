#!/usr/bin/env bash
# Re-extract the console's messages and merge them into the catalogues (review the .po diff).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F webui/babel.cfg -k _l -k N_ --no-location --sort-output \
  -o webui/translations/messages.pot .
.venv/bin/pybabel update -i webui/translations/messages.pot -d webui/translations --no-fuzzy-matching
