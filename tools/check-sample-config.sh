#!/usr/bin/env bash
# Fail when etc/ryu-midonet.conf.sample no longer matches the options in the code.
# Regenerate it with `make genconfig`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GENERATOR_CONF="etc/oslo-config-generator/ryu-midonet.conf"
SAMPLE="etc/ryu-midonet.conf.sample"

cd "$ROOT"
if [ -x .venv/bin/oslo-config-generator ]; then
    GENERATOR=.venv/bin/oslo-config-generator
elif command -v oslo-config-generator >/dev/null 2>&1; then
    GENERATOR=oslo-config-generator
else
    echo "check-sample-config: oslo-config-generator not found (run tools/install-deps.sh)" >&2
    exit 2
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT

"$GENERATOR" --config-file "$GENERATOR_CONF" --output-file "$tmp"

if [ ! -f "$SAMPLE" ]; then
    echo "check-sample-config: $SAMPLE is missing; run 'make genconfig'" >&2
    exit 1
fi
if ! diff -u "$SAMPLE" "$tmp" >&2; then
    echo "check-sample-config: $SAMPLE is out of date with the options in the code;" \
        "run 'make genconfig' and commit the result" >&2
    exit 1
fi
echo "check-sample-config: $SAMPLE is up to date"
