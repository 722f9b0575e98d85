#!/usr/bin/env bash
# Run a private redis-server for ryu-midonet on 127.0.0.1, apart from any system one.
#
#   tools/redis-server.sh start DIR PORT   start it (no-op when it already runs);
#                                           prints its URL
#   tools/redis-server.sh stop  DIR [PORT] stop the server whose pid is in DIR
#   tools/redis-server.sh url   DIR PORT   print its URL (redis://127.0.0.1:PORT/0)
#
# DIR holds redis.pid, redis.log and the data: an append-only file (a multi-part
# AOF in DIR/appendonlydir) written with fsync on every write, so a write Redis
# acknowledged survives kill -9 of the server and a crash of the machine. It is
# read back at start; to start empty, stop the server and remove DIR/appendonlydir.
# No RDB snapshots are taken (the AOF rewrite compacts the log by itself).
# REDIS_SERVER overrides the redis-server binary.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|url DIR PORT" >&2
    exit 2
}

[ $# -ge 2 ] || usage
ACTION="$1"
DIR="$2"
PORT="${3:-}"
PIDFILE="$DIR/redis.pid"
LOGFILE="$DIR/redis.log"

die() { printf 'redis-server.sh: %s\n' "$*" >&2; exit 1; }

need_port() {
    [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] ||
        die "PORT must be a number between 1 and 65535 (got '${PORT}')"
}

url() { echo "redis://127.0.0.1:$PORT/0"; }

# A process counts as alive unless it is gone or a zombie waiting to be reaped.
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
    [ -n "$state" ] && [ "$state" != "Z" ]
}

# Print the pid from the pidfile when that process is a live redis-server.
running_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid="$(tr -dc '0-9' <"$PIDFILE")"
    [ -n "$pid" ] || return 1
    alive "$pid" || return 1
    grep -q 'redis' "/proc/$pid/comm" 2>/dev/null || return 1
    echo "$pid"
}

ping_redis() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]
    else
        local reply
        exec 3<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || return 1
        printf 'PING\r\n' >&3
        read -r -t 2 reply <&3 || true
        exec 3>&-
        [ "${reply%$'\r'}" = "+PONG" ]
    fi
}

find_server() {
    if [ -n "${REDIS_SERVER:-}" ]; then
        echo "$REDIS_SERVER"
    elif command -v redis-server >/dev/null 2>&1; then
        command -v redis-server
    elif [ -x /usr/bin/redis-server ]; then
        echo /usr/bin/redis-server
    else
        die "redis-server not found; run tools/install-deps.sh (Debian package redis-server)"
    fi
}

start() {
    need_port
    mkdir -p "$DIR"
    DIR="$(cd "$DIR" && pwd)"
    PIDFILE="$DIR/redis.pid"
    LOGFILE="$DIR/redis.log"
    if pid="$(running_pid)"; then
        ping_redis || die "redis-server (pid $pid) from $DIR does not answer on port $PORT"
        url
        return
    fi
    rm -f "$PIDFILE"
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "port $PORT on 127.0.0.1 is already in use by another process"
    fi
    : >"$LOGFILE"
    "$(find_server)" --port "$PORT" --bind 127.0.0.1 --protected-mode yes \
        --daemonize yes --dir "$DIR" --pidfile "$PIDFILE" --logfile "$LOGFILE" \
        --save "" --appendonly yes --appendfsync always --appenddirname appendonlydir \
        || die "redis-server failed to start; see $LOGFILE"
    local i
    for i in $(seq 100); do
        if running_pid >/dev/null && ping_redis; then
            url
            return
        fi
        if grep -q 'aborting' "$LOGFILE" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
    die "redis-server did not come up on 127.0.0.1:$PORT; see $LOGFILE"
}

stop() {
    local pid i
    if ! pid="$(running_pid)"; then
        rm -f "$PIDFILE"
        return
    fi
    kill -TERM "$pid"
    for i in $(seq 100); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        echo "redis-server.sh: pid $pid ignored SIGTERM for 10 s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$PIDFILE"
}

case "$ACTION" in
    start) start ;;
    stop) stop ;;
    url) need_port; url ;;
    *) usage ;;
esac
