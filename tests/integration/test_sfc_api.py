"""networking-sfc through the REST API (a real API process, real Redis).

What a client sees: the root's ``portPairs``, ``portPairGroups``, ``flowClassifiers`` and
``portChains`` links and templates at networking-sfc's ``/sfc/...`` paths and field names;
defaults filled as networking-sfc fills them; bad input answers 400 naming the field and writes
nothing; what a group or chain uses cannot be deleted (409) until it is let go.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_call import call, ok

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology

pytestmark = pytest.mark.integration

LINKS = {"portPairs": "sfc/port_pairs", "portPairGroups": "sfc/port_pair_groups",
         "flowClassifiers": "sfc/flow_classifiers", "portChains": "sfc/port_chains"}
HOSTS = [str(uuid.uuid5(uuid.NAMESPACE_DNS, f"sfc-api.host{n}")) for n in (0, 1)]


def network(api_url: str, redis_url: str) -> dict[str, Any]:
    """A tenant network with a VM port and two two-armed service functions, a second network,
    and a router port; the first function's arms are bound on host 0."""
    topo = Topology(Store.from_url(redis_url))
    for n, host in enumerate(HOSTS):
        topo.register_host(host, f"sfc{n}", addresses=[f"192.0.2.{n + 1}"], interfaces=[])
    root = ok("GET", api_url + "/")
    net = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    other = ok("POST", api_url + "/bridges", {"name": "other"}, 201)
    ports = [ok("POST", net["ports"], {}, 201) for _ in range(6)]
    router = ok("POST", api_url + "/routers", {"name": "r"}, 201)
    rport = ok("POST", router["ports"], {"portAddress": "10.0.0.1", "networkLength": 24}, 201)
    zone = ok("POST", api_url + "/tunnel_zones", {"name": "tz"}, 201)
    for n, host in enumerate(HOSTS):
        ok("POST", zone["hosts"], {"hostId": host, "ipAddress": f"192.0.2.{n + 1}"}, 201)
    for port, host, ifname in ((ports[1], 0, "sf0-in"), (ports[2], 0, "sf0-out"),
                               (ports[3], 1, "sf1-in")):
        ok("POST", f"{api_url}/hosts/{HOSTS[host]}/ports",
           {"portId": port["id"], "interfaceName": ifname}, 201)
    return {"root": root, "net": net, "other": other, "ports": ports, "rport": rport,
            "other_port": ok("POST", other["ports"], {}, 201)}


def test_chain_round_trip(api_url: str, redis_url: str) -> None:
    t = network(api_url, redis_url)
    root, ports = t["root"], t["ports"]
    for name, path in LINKS.items():
        assert root[name] == f"{api_url}/{path}"
    pp = ok("POST", root["portPairs"], {"name": "fw0", "ingress": ports[1]["id"],
                                        "egress": ports[2]["id"],
                                        "service_function_parameters": {"correlation": "mpls"}},
            201)
    assert (pp["ingress"], pp["egress"], pp["service_function_parameters"], pp["description"],
            pp["uri"]) == (ports[1]["id"], ports[2]["id"], {"correlation": "mpls", "weight": 1},
                           "", root["portPairTemplate"].replace("{id}", pp["id"]))
    one_arm = ok("POST", root["portPairs"], {"ingress": ports[4]["id"],
                                             "egress": ports[4]["id"]}, 201)
    assert one_arm["service_function_parameters"] == {"correlation": None, "weight": 1}
    ppg = ok("POST", root["portPairGroups"], {"port_pairs": [pp["id"]],
                                              "port_pair_group_parameters": {
                                                  "lb_fields": ["ip_src", "tcp_dst"]}}, 201)
    assert (ppg["port_pairs"], ppg["port_pair_group_parameters"]) == (
        [pp["id"]], {"lb_fields": ["ip_src", "tcp_dst"]})
    ppg2 = ok("POST", root["portPairGroups"], {"port_pairs": [one_arm["id"]]}, 201)
    assert ppg2["port_pair_group_parameters"] == {"lb_fields": []}
    assert ppg2["group_id"] == ppg["group_id"] + 1
    fc = ok("POST", root["flowClassifiers"], {
        "protocol": "TCP", "destination_port_range_min": 80, "destination_port_range_max": 80,
        "source_ip_prefix": "10.0.0.0/24", "logical_source_port": ports[0]["id"],
        "logical_destination_port": ports[5]["id"]}, 201)
    assert (fc["ethertype"], fc["protocol"], fc["source_port_range_min"],
            fc["destination_port_range_min"], fc["destination_port_range_max"],
            fc["source_ip_prefix"], fc["destination_ip_prefix"], fc["l7_parameters"]) == (
        "IPv4", "tcp", None, 80, 80, "10.0.0.0/24", None, {})
    pc = ok("POST", root["portChains"], {"port_pair_groups": [ppg["id"], ppg2["id"]],
                                         "flow_classifiers": [fc["id"]],
                                         "chain_parameters": {"symmetric": True}}, 201)
    assert (pc["chain_id"], pc["chain_parameters"], pc["port_pair_groups"]) == (
        1, {"correlation": "mpls", "symmetric": True}, [ppg["id"], ppg2["id"]])
    pc2 = ok("POST", root["portChains"], {"port_pair_groups": [
        ok("POST", root["portPairGroups"], {}, 201)["id"]], "chain_id": 7}, 201)
    assert (pc2["chain_id"], pc2["flow_classifiers"]) == (7, [])
    for name, obj in (("portPairs", pp), ("portPairGroups", ppg), ("flowClassifiers", fc),
                      ("portChains", pc)):
        assert ok("GET", obj["uri"]) == obj
        assert obj in ok("GET", root[name])

    # the order of groups and the classifiers change; parameters and ports do not
    pc = ok("PUT", pc["uri"], {**pc, "port_pair_groups": [ppg2["id"], ppg["id"]],
                               "flow_classifiers": [], "name": "web"})
    assert (pc["port_pair_groups"], pc["flow_classifiers"], pc["name"]) == (
        [ppg2["id"], ppg["id"]], [], "web")
    pp = ok("PUT", pp["uri"], {"name": "fw", "ingress": ports[4]["id"]})
    assert (pp["name"], pp["ingress"]) == ("fw", ports[1]["id"])


def test_bad_input_names_the_field_and_writes_nothing(api_url: str, redis_url: str) -> None:
    t = network(api_url, redis_url)
    root, ports = t["root"], t["ports"]
    pp = ok("POST", root["portPairs"], {"ingress": ports[1]["id"], "egress": ports[2]["id"]},
            201)
    pp_nsh = ok("POST", root["portPairs"], {
        "ingress": ports[4]["id"], "egress": ports[4]["id"],
        "service_function_parameters": {"correlation": "nsh"}}, 201)
    ppg = ok("POST", root["portPairGroups"], {"port_pairs": [pp["id"]]}, 201)
    ppg_nsh = ok("POST", root["portPairGroups"], {"port_pairs": [pp_nsh["id"]]}, 201)
    fc = ok("POST", root["flowClassifiers"], {"logical_source_port": ports[0]["id"]}, 201)
    pc = ok("POST", root["portChains"], {"port_pair_groups": [ppg["id"]],
                                         "flow_classifiers": [fc["id"]]}, 201)
    spare = ok("POST", root["portPairs"], {"ingress": ports[5]["id"],
                                           "egress": ports[5]["id"]}, 201)
    nowhere = str(uuid.uuid4())
    src = {"logical_source_port": ports[0]["id"]}
    tcp = {**src, "protocol": "tcp"}
    good_pp = {"ingress": ports[5]["id"], "egress": ports[0]["id"]}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        # port pairs
        ("POST", root["portPairs"], {"egress": ports[5]["id"]}, "ingress"),
        ("POST", root["portPairs"], {**good_pp, "ingress": nowhere}, "ingress"),
        ("POST", root["portPairs"], {**good_pp, "egress": t["other_port"]["id"]}, "egress"),
        ("POST", root["portPairs"], {**good_pp, "egress": t["rport"]["id"]}, "egress"),
        ("POST", root["portPairs"], {"ingress": ports[1]["id"], "egress": ports[3]["id"]},
         "egress"),  # bound on two hosts: not one instance
        ("POST", root["portPairs"], {"ingress": ports[1]["id"], "egress": ports[2]["id"]},
         "ingress"),  # these ports make a pair already
        ("POST", root["portPairs"], {**good_pp, "service_function_parameters": {
            "correlation": "vlan"}}, "service_function_parameters.correlation"),
        ("POST", root["portPairs"], {**good_pp, "service_function_parameters": {
            "weight": -1}}, "service_function_parameters.weight"),
        # port pair groups
        ("POST", root["portPairGroups"], {"port_pairs": [nowhere]}, "port_pairs"),
        ("POST", root["portPairGroups"], {"port_pairs": [pp["id"]]}, "port_pairs"),  # taken
        ("POST", root["portPairGroups"], {"port_pairs": [spare["id"], pp_nsh["id"]]},
         "port_pairs"),  # two headers in one group (and pp_nsh is taken)
        ("POST", root["portPairGroups"], {"port_pair_group_parameters": {
            "lb_fields": ["ip_tos"]}}, "port_pair_group_parameters.lb_fields"),
        ("PUT", ppg["uri"], {"port_pairs": [pp["id"], pp_nsh["id"]]}, "port_pairs"),
        # flow classifiers
        ("POST", root["flowClassifiers"], {"protocol": "tcp"}, "logical_source_port"),
        ("POST", root["flowClassifiers"], {**src, "source_ip_prefix": "10.0.0.300/24"},
         "source_ip_prefix"),
        ("POST", root["flowClassifiers"], {**src, "destination_ip_prefix": "10.0.0.1/24"},
         "destination_ip_prefix"),  # host bits set
        ("POST", root["flowClassifiers"], {**src, "destination_ip_prefix": "fd00::/64"},
         "destination_ip_prefix"),  # not the ethertype's family
        ("POST", root["flowClassifiers"], {**src, "ethertype": "ARP"}, "ethertype"),
        ("POST", root["flowClassifiers"], {**src, "protocol": "sctp"}, "protocol"),
        ("POST", root["flowClassifiers"], {**src, "destination_port_range_min": 80},
         "protocol"),  # ports need tcp or udp
        ("POST", root["flowClassifiers"], {**tcp, "destination_port_range_min": 90,
                                           "destination_port_range_max": 80},
         "destination_port_range_min"),
        ("POST", root["flowClassifiers"], {**tcp, "source_port_range_max": 65536},
         "source_port_range_max"),
        ("POST", root["flowClassifiers"], {**tcp, "source_port_range_min": -1},
         "source_port_range_min"),
        ("POST", root["flowClassifiers"], {**src, "logical_destination_port": nowhere},
         "logical_destination_port"),
        ("POST", root["flowClassifiers"], {**src, "l7_parameters": {"url": "/"}},
         "l7_parameters"),
        # port chains
        ("POST", root["portChains"], {"port_pair_groups": []}, "port_pair_groups"),
        ("POST", root["portChains"], {"port_pair_groups": [nowhere]}, "port_pair_groups"),
        ("POST", root["portChains"], {"port_pair_groups": [ppg["id"]]},
         "port_pair_groups"),  # the group is in a chain already
        ("POST", root["portChains"], {"port_pair_groups": [ppg_nsh["id"]]},
         "port_pair_groups"),  # the group's functions understand nsh, the chain mpls
        ("POST", root["portChains"], {"port_pair_groups": [ppg_nsh["id"]],
                                      "flow_classifiers": [nowhere],
                                      "chain_parameters": {"correlation": "nsh"}},
         "flow_classifiers"),
        ("POST", root["portChains"], {"port_pair_groups": [ppg_nsh["id"]],
                                      "flow_classifiers": [fc["id"]],
                                      "chain_parameters": {"correlation": "nsh"}},
         "flow_classifiers"),  # the classifier is in a chain already
        ("POST", root["portChains"], {"port_pair_groups": [ppg_nsh["id"]],
                                      "chain_parameters": {"correlation": "vlan"}},
         "chain_parameters.correlation"),
        ("POST", root["portChains"], {"port_pair_groups": [ppg_nsh["id"]],
                                      "chain_parameters": {"correlation": "nsh"},
                                      "chain_id": pc["chain_id"]}, "chain_id"),
        ("POST", root["portChains"], {"port_pair_groups": [ppg_nsh["id"]],
                                      "chain_parameters": {"correlation": "nsh"},
                                      "chain_id": 65536}, "chain_id"),
        ("POST", root["portChains"], {"port_pair_groups": [ppg["id"]],
                                      "chain_id": 2048}, "chain_id"),  # no room in a label
        ("PUT", pc["uri"], {**pc, "port_pair_groups": [ppg["id"], nowhere]},
         "port_pair_groups"),
    ]
    for method, url, body, field in cases:
        status, error = call(method, url, body)
        assert status == 400, (method, url, body, error)
        assert [v["property"] for v in error["violations"]] == [field], (body, error)

    # a symmetric chain's classifiers name where the replies enter
    status, error = call("POST", root["portChains"], {
        "port_pair_groups": [ppg_nsh["id"]], "flow_classifiers": [
            ok("POST", root["flowClassifiers"], src, 201)["id"]],
        "chain_parameters": {"correlation": "nsh", "symmetric": True}})
    assert status == 400 and error["violations"][0]["property"] == "flow_classifiers"
    assert "logical_destination_port" in error["violations"][0]["message"]

    # nothing was written
    assert len(ok("GET", root["portPairs"])) == 3
    assert ok("GET", root["portPairGroups"]) == [ppg, ppg_nsh]
    assert ok("GET", root["portChains"]) == [pc]
    assert len(ok("GET", root["flowClassifiers"])) == 2


def test_what_is_in_use_cannot_be_deleted(api_url: str, redis_url: str) -> None:
    t = network(api_url, redis_url)
    root, ports = t["root"], t["ports"]
    pp = ok("POST", root["portPairs"], {"ingress": ports[1]["id"], "egress": ports[2]["id"]},
            201)
    ppg = ok("POST", root["portPairGroups"], {"port_pairs": [pp["id"]]}, 201)
    fc = ok("POST", root["flowClassifiers"], {"logical_source_port": ports[0]["id"]}, 201)
    pc = ok("POST", root["portChains"], {"port_pair_groups": [ppg["id"]],
                                         "flow_classifiers": [fc["id"]]}, 201)
    for obj in (pp, ppg, fc, ports[0], ports[1]):
        status, error = call("DELETE", obj["uri"])
        assert status == 409, (obj["uri"], error)
        assert ok("GET", obj["uri"])["id"] == obj["id"]
    ok("DELETE", pc["uri"], status=204)
    ok("DELETE", ppg["uri"], status=204)
    for obj in (pp, fc, ports[1], ports[0]):
        ok("DELETE", obj["uri"], status=204)
    assert call("GET", pc["uri"])[0] == 404
    for name in LINKS:
        assert ok("GET", root[name]) == []
