#!/usr/bin/env bash
# The benchmark: ryu-midonet against faucet, plain Open vSwitch NORMAL forwarding and OVN,
# measured in the same run on the same sandbox (python -m ryu_midonet.bench). `make bench` runs
# it after `make deps`; arguments are passed on (e.g. --quick, --only ryu-midonet, --output FILE).
#
# It installs what only the benchmark needs: faucet, into its own virtual environment
# .venv-bench-faucet, so that faucet's pinned dependencies never touch .venv; and OVN's Debian
# packages (tools/install-deps.sh --bench), when missing. When a peer cannot be installed, the
# benchmark still runs and reports that peer as unavailable, with the reason.
#
# Environment: BENCH_ONLY (controllers to run, e.g. "ovn" or "ryu-midonet ovs-normal"; default
# all: `make bench BENCH_ONLY=ovn` while developing), FAUCET_VERSION (default 1.10.12),
# BENCH_TIMEOUT (seconds, default 1200: a full run takes about 14 minutes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV=.venv
FAUCET_VENV=.venv-bench-faucet
FAUCET_VERSION="${FAUCET_VERSION:-1.10.12}"
STAMP="$FAUCET_VENV/.faucet-$FAUCET_VERSION-installed"

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: the sandbox needs network namespaces and Open vSwitch"
[ -x "$VENV/bin/python" ] || die "$VENV is missing: run 'make deps' first"

install_faucet() {
    if [ -f "$STAMP" ]; then
        log "faucet $FAUCET_VERSION ready in $FAUCET_VENV"
        return 0
    fi
    log "installing faucet $FAUCET_VERSION into $FAUCET_VENV"
    rm -rf "$FAUCET_VENV"
    # The same Python 3.11 as the product's environment, in a separate environment.
    "$VENV/bin/python" -m venv "$FAUCET_VENV" &&
        "$FAUCET_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "faucet==$FAUCET_VERSION" &&
        touch "$STAMP"
}

wants() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

if wants faucet && ! install_faucet; then
    log "faucet could not be installed; the benchmark reports it as unavailable"
    rm -rf "$FAUCET_VENV"
fi
if { wants ovn || wants turns || wants lb; } && ! bash tools/install-deps.sh --bench; then
    log "OVN could not be installed; the benchmark reports it as unavailable"
fi

only=()
if [ -n "${BENCH_ONLY:-}" ]; then
    read -r -a only <<< "$BENCH_ONLY"
    only=(--only "${only[@]}")
fi

# The benchmark stops and tears its sandbox down on SIGTERM; the timeout is a last resort.
exec timeout --kill-after=60 "${BENCH_TIMEOUT:-1200}" \
    "$VENV/bin/python" -m ryu_midonet.bench --faucet-venv "$FAUCET_VENV" "${only[@]}" "$@"
