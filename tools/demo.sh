#!/usr/bin/env bash
# The ryu-midonet demonstration: a private redis-server, the REST API, a small virtual topology
# built with midonet-cli, and its listings.
#
#   tools/demo.sh          (re)start the services and rebuild the demo topology
#   tools/demo.sh stop     stop the demo services (by the PIDs in .run/demo)
#
# The demo store is rebuilt from scratch on every run, so running it twice gives the same result.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=.run/demo
REDIS_PORT="${DEMO_REDIS_PORT:-6390}"
API_PORT="${DEMO_API_PORT:-8181}"
REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
API_URL="http://127.0.0.1:${API_PORT}/midonet-api"
VENV=.venv
HOST_ID=6f0ad01c-1f2b-4c4e-9d3e-000000000d30

stop_api() {
    local pid
    [ -f "$RUN/api.pid" ] || return 0
    pid="$(cat "$RUN/api.pid")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$RUN/api.pid"
}

if [ "${1:-}" = "stop" ]; then
    stop_api
    bash tools/redis-server.sh stop "$RUN/redis" "$REDIS_PORT" >/dev/null
    echo "demo stopped"
    exit 0
fi

mkdir -p "$RUN/redis"
bash tools/redis-server.sh start "$RUN/redis" "$REDIS_PORT" >/dev/null
"$VENV/bin/python" - "$REDIS_URL" <<'EOF'
import sys
import redis
redis.Redis.from_url(sys.argv[1]).flushdb()
EOF

stop_api
nohup "$VENV/bin/ryu-midonet-manager" --redis-url "$REDIS_URL" --wsapi-port "$API_PORT" \
    ryu_midonet.rest >"$RUN/api.log" 2>&1 &
echo $! >"$RUN/api.pid"
for _ in $(seq 100); do
    curl -sf "$API_URL/" >/dev/null 2>&1 && break
    kill -0 "$(cat "$RUN/api.pid")" 2>/dev/null || { cat "$RUN/api.log"; exit 1; }
    sleep 0.1
done
curl -sf "$API_URL/" >/dev/null || { echo "the API did not come up; see $RUN/api.log" >&2; exit 1; }

# Hosts are registered by the agent running on them; the demo registers this machine the same way.
"$VENV/bin/python" - "$REDIS_URL" "$HOST_ID" "$(hostname)" <<'EOF'
import sys
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
topo = Topology(Store.from_url(sys.argv[1]))
topo.register_host(sys.argv[2], sys.argv[3], addresses=["192.168.0.3"], interfaces=[
    {"name": "eth1", "mac": "12:6e:b7:d0:4f:f1", "mtu": 1500, "type": "Physical",
     "endpoint": "PHYSICAL", "addresses": ["192.168.0.3"], "status": 3}])
topo.heartbeat(sys.argv[2], ttl_ms=3_600_000)
EOF

cli() {
    echo "midonet> $1"
    "$VENV/bin/midonet-cli" -A --midonet-url "$API_URL" -e "$1" | sed 's/^/  /'
}

echo "== building the demo topology"
cli "create tunnel-zone name demo-tz type vxlan"
cli "tunnel-zone tzone0 add member host host0 address 192.168.0.3"
cli "router create name \"Edge Router\""
cli "router router0 add port addresses 172.19.0.2/30"
cli "router router0 add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal port router router0 port port0 gw 172.19.0.1"
cli "router router0 add port addresses 10.0.0.1/24"
cli "bridge create name tenant-net"
cli "bridge bridge0 add port"
cli "bridge bridge0 add port"
cli "router router0 port port1 set peer bridge0:port0"
cli "host host0 add binding port bridge0:port1 interface eth1"
cli "chain create name web-only"
cli "chain chain0 add rule ethertype 2048 proto 6 dst-port 80 type accept"
cli "chain chain0 add rule ethertype 2048 src !10.0.0.0/24 pos 2 type drop"
cli "bridge bridge0 port port1 set outfilter chain0"
cli "port-group create name SPG stateful true"
cli "port-group pgroup0 add member port router0:port0"

echo
echo "== the topology"
cli "list host"
cli "list tunnel-zone"
cli "tunnel-zone tzone0 list member"
cli "list router"
cli "router router0 list port"
cli "router router0 list route"
cli "list bridge"
cli "bridge bridge0 list port"
cli "list chain"
cli "chain chain0 list rule"
cli "port-group pgroup0 list member"

cat <<EOF

The REST API runs at $API_URL (store: $REDIS_URL).
Continue with:
  $VENV/bin/midonet-cli -A --midonet-url $API_URL          # interactive, prompt 'midonet> '
  curl -s $API_URL/routers | python3 -m json.tool
  curl -s $API_URL/openapi.json                              # the API description
Stop the demo with: bash tools/demo.sh stop
EOF
