#!/usr/bin/env bash
# The ryu-midonet demonstration: two hosts on this machine (network namespaces, each with its
# own Open vSwitch and agent), a virtual router between two bridges built with midonet-cli,
# a VM on each host, a ping across, and the flows each host's switch got.
#
#   tools/demo.sh          (re)build the sandbox and the topology, ping, show the flows
#   tools/demo.sh stop     take the sandbox down (processes stopped by PID, namespaces removed)
#
# Every run starts from a fresh sandbox, so running it twice gives the same result.
# The REST API runs with authentication on: the sandbox creates the user admin with a random
# password (in .run/demo/api/admin.password); midonet-cli logs in with it.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=.run/demo
VENV=.venv
SANDBOX="$VENV/bin/ryu-midonet-sandbox"
API_URL="http://127.0.0.1:8181/midonet-api"

"$SANDBOX" down --run-dir "$RUN" >/dev/null 2>&1 || true
if [ "${1:-}" = "stop" ]; then
    echo "demo stopped"
    exit 0
fi

echo "== starting two hosts (h1, h2), their agents, redis and the REST API"
mkdir -p "$(dirname "$RUN")"
"$SANDBOX" up etc/sandbox/demo.yaml --run-dir "$RUN" >"$RUN.up.log" 2>&1 || {
    cat "$RUN.up.log"; exit 1; }

PASSWORD_FILE="$RUN/api/admin.password"
MIDO_USER=admin
MIDO_PASSWORD="$(cat "$PASSWORD_FILE")"
export MIDO_USER MIDO_PASSWORD  # midonet-cli logs in with these (like -u/-p, not in ps)

cli() {
    echo "midonet> $1" >&2
    "$VENV/bin/midonet-cli" --midonet-url "$API_URL" -e "$1" | tee /dev/stderr
}
host_alias() { cli "host list name $1" 2>/dev/null | awk '{print $2}'; }

H1=$(host_alias h1)
H2=$(host_alias h2)
echo
echo "== the virtual topology, with midonet-cli"
cli "create tunnel-zone name overlay type vxlan" >/dev/null
cli "tunnel-zone tzone0 add member host $H1 address 10.99.0.1" >/dev/null
cli "tunnel-zone tzone0 add member host $H2 address 10.99.0.2" >/dev/null
cli "router create name \"Tenant Router\"" >/dev/null
cli "router router0 add port addresses 10.0.0.1/24" >/dev/null
cli "router router0 add port addresses 10.0.1.1/24" >/dev/null
cli "bridge create name net-a" >/dev/null
cli "bridge create name net-b" >/dev/null
for b in bridge0 bridge1; do
    cli "bridge $b add port" >/dev/null
    cli "bridge $b add port" >/dev/null
done
cli "router router0 port port0 set peer bridge0:port0" >/dev/null
cli "router router0 port port1 set peer bridge1:port0" >/dev/null
cli "host $H1 add binding port bridge0:port1 interface rm-vm1-tap" >/dev/null
cli "host $H2 add binding port bridge1:port1 interface rm-vm2-tap" >/dev/null
cli "list host" >/dev/null
cli "router router0 list port" >/dev/null
cli "router router0 list route" >/dev/null

echo
echo "== vm1 (10.0.0.11, on h1) pings vm2 (10.0.1.12, on h2) through the router"
for _ in $(seq 50); do
    "$SANDBOX" exec --run-dir "$RUN" vm1 -- ping -n -c 1 -W 1 10.0.1.12 >/dev/null 2>&1 && break
    sleep 0.2
done
"$SANDBOX" exec --run-dir "$RUN" vm1 -- ping -n -c 3 -i 0.3 10.0.1.12

for h in h1 h2; do
    echo
    echo "== flows of $h (table 0 classify, 1 flows from simulations, 2 tunnel delivery)"
    "$SANDBOX" ofctl --run-dir "$RUN" "$h" dump-flows br-int | grep cookie= | sed 's/^ *//'
done

cat <<EOM

The sandbox keeps running. The REST API needs a login: user admin, password in
$PASSWORD_FILE (a ~/.midonetrc for midonet-cli: $RUN/api/midonetrc). Continue with:
  $VENV/bin/midonet-cli --midonet-url $API_URL -u admin -p "\$(cat $PASSWORD_FILE)"
                                                        # interactive, prompt 'midonet> '
  $SANDBOX exec --run-dir $RUN vm2 -- ping -c 2 10.0.0.11
  $SANDBOX ofctl --run-dir $RUN h1 dump-flows br-int
  TOKEN=\$(curl -s -X POST -u admin:"\$(cat $PASSWORD_FILE)" $API_URL/login | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
  curl -s -H "X-Auth-Token: \$TOKEN" $API_URL/routers | python3 -m json.tool
README.rst explains the tables and cookies. Stop everything with: make demo-stop
EOM
