#!/usr/bin/env bash
# Install what ryu-midonet needs to build, test and run its demo, then create or
# update the Python virtual environment at .venv. Safe to run again: packages that
# are present are not reinstalled and pip runs only when setup.py or pyproject.toml
# changed since the last successful install.
#
# Debian 12, as root (or with sudo available). Environment:
#   RYU_MIDONET_SKIP_APT=1   skip the Debian packages step
#   PYTHON=/path/to/python   interpreter for the venv (must be Python 3.11)
#
# `install-deps.sh --bench` installs only what the benchmark's peers need beyond that (OVN:
# ovn-central and ovn-host), when missing; tools/bench.sh runs it, `make test` never does.
# Debian's packages enable the system's own OVN services; the benchmark never uses them (it
# runs its own daemons, in its run directory).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.ryu-midonet-installed"

DEB_PACKAGES=(
    redis-server
    openvswitch-switch
    openvswitch-vtep
    frr
    iproute2
    ethtool
    iputils-ping
    tcpdump
    iperf3
    curl
    busybox
)

BENCH_PACKAGES=(
    ovn-central
    ovn-host
)

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*"
    fi
}

is_py311() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
        >/dev/null 2>&1
}

find_python() {
    if [ -n "${PYTHON:-}" ]; then
        is_py311 "$PYTHON" || die "PYTHON=$PYTHON is not Python 3.11"
        echo "$PYTHON"
        return
    fi
    local candidate
    for candidate in python3.11 python3 /usr/bin/python3.11 /usr/bin/python3; do
        if command -v "$candidate" >/dev/null 2>&1 && is_py311 "$candidate"; then
            command -v "$candidate"
            return
        fi
    done
    return 1
}

install_debian_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
}

if [ "${1:-}" = "--bench" ]; then
    install_debian_packages "${BENCH_PACKAGES[@]}"
    exit 0
fi

# 1. Debian packages.
if [ "${RYU_MIDONET_SKIP_APT:-0}" != "1" ]; then
    packages=("${DEB_PACKAGES[@]}")
    # Debian's own Python 3.11 is the fallback interpreter; it needs python3-venv.
    if ! find_python >/dev/null; then
        packages+=(python3 python3-venv)
    fi
    install_debian_packages "${packages[@]}"
fi

# 2. The interpreter, and venv support for it.
PY="$(find_python)" || die "no Python 3.11 found (tried python3.11 and python3)"
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [ "${RYU_MIDONET_SKIP_APT:-0}" = "1" ]; then
        die "$PY cannot create virtual environments (python3-venv missing)"
    fi
    install_debian_packages python3-venv python3.11-venv
fi

# 3. The virtual environment.
if [ -x "$VENV/bin/python" ] && ! is_py311 "$VENV/bin/python"; then
    log "existing $VENV is not Python 3.11 (or is broken); recreating it"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PY"
    "$PY" -m venv "$VENV"
fi

# 4. The project and its test tools, unless nothing changed since the last install.
if [ -f "$STAMP" ] && [ "$STAMP" -nt "$ROOT/setup.py" ] && [ "$STAMP" -nt "$ROOT/pyproject.toml" ]
then
    log "Python packages up to date ($VENV)"
else
    log "installing ryu-midonet and its test tools into $VENV"
    rm -f "$STAMP"
    (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet -e ".[test]")
    touch "$STAMP"
fi
