"""networking-sfc on the wire, under ``/sfc`` as Neutron serves it: ``/sfc/port_pairs``,
``/sfc/port_pair_groups``, ``/sfc/flow_classifiers`` and ``/sfc/port_chains``, with
networking-sfc's field names. The nested parameter objects are described here; the store
checks them again (and everything that depends on other objects)."""

from __future__ import annotations

from ryu_midonet.nsdb.kinds.sfc_common import CORRELATIONS
from ryu_midonet.nsdb.kinds.sfc_flow_classifier import ETHERTYPES, PROTOCOLS
from ryu_midonet.nsdb.kinds.sfc_port_pair_group import LB_FIELDS
from ryu_midonet.rest.resource import Resource, RestKind, Schema


def _params(props: dict[str, Schema], what: str) -> Schema:
    return {"type": ["object", "null"], "additionalProperties": False, "properties": props,
            "description": what}


_BOOL: Schema = {"anyOf": [{"type": "boolean"},
                           {"type": "string", "enum": ["true", "false", "True", "False"]}]}
SF_PARAMETERS = _params({
    "correlation": {"enum": [None, *CORRELATIONS],
                    "description": "the service header the function understands; null: "
                                   "none (served by proxy)"},
    "weight": {"type": "integer", "minimum": 0}}, "the service function's parameters")
PPG_PARAMETERS = _params({
    "lb_fields": {"type": "array", "items": {"enum": list(LB_FIELDS)}}},
    "the fields whose hash picks a port pair of the group")
CHAIN_PARAMETERS = _params({
    "correlation": {"enum": list(CORRELATIONS)}, "symmetric": _BOOL},
    "the chain's service header and whether replies go back through it")
L7_PARAMETERS: Schema = {"type": ["object", "null"], "maxProperties": 0,
                         "description": "no L7 parameter is supported"}
_CASELESS: Schema = {"type": ["string", "null"]}

PORT_PAIR = RestKind(
    Resource("portPair", "sfc/port_pairs", "PortPair", 1),
    inputs={"service_function_parameters": SF_PARAMETERS},
    dto_fields={"service_function_parameters": SF_PARAMETERS},
    checked=("ingress", "egress", "service_function_parameters"))
PORT_PAIR_GROUP = RestKind(
    Resource("portPairGroup", "sfc/port_pair_groups", "PortPairGroup", 1),
    inputs={"port_pair_group_parameters": PPG_PARAMETERS},
    dto_fields={"port_pair_group_parameters": PPG_PARAMETERS},
    checked=("port_pairs",))
FLOW_CLASSIFIER = RestKind(
    Resource("flowClassifier", "sfc/flow_classifiers", "FlowClassifier", 1),
    inputs={"l7_parameters": L7_PARAMETERS,
            "ethertype": {**_CASELESS, "description": " or ".join(ETHERTYPES)},
            "protocol": {**_CASELESS, "description": ", ".join(PROTOCOLS)}},
    dto_fields={"l7_parameters": L7_PARAMETERS},
    checked=("ethertype", "protocol", "source_ip_prefix", "destination_ip_prefix",
             "source_port_range_min", "destination_port_range_min"))
PORT_CHAIN = RestKind(
    Resource("portChain", "sfc/port_chains", "PortChain", 1),
    inputs={"chain_parameters": CHAIN_PARAMETERS},
    dto_fields={"chain_parameters": CHAIN_PARAMETERS},
    checked=("chain_id", "port_pair_groups", "flow_classifiers"))
