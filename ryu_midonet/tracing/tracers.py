"""``mm-trace`` tracers as trace requests: options <-> request bodies, and the re-addable text.

A tracer is a trace request on one device (``--port``, ``--bridge`` or ``--router``) with a
condition from the guide's match options; its ``name`` keeps the level (``mm-trace --debug``
or ``mm-trace --trace``). :func:`args` gives the options that would add it again, in one
order, so that ``remove`` finds a tracer by the options that added it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

LIMIT_MAX = 2**63 - 1
LEVELS = ("--debug", "--trace")
DEVICES = {"--port": "PORT", "--bridge": "BRIDGE", "--router": "ROUTER"}
NAME_PREFIX = "mm-trace "
# option -> condition field(s), in the order :func:`args` writes them
MATCHES = ("--ethertype", "--mac-src", "--mac-dst", "--ip-src", "--ip-dst", "--ip-protocol",
           "--src-port", "--dst-port")


class BadOption(ValueError):
    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


def body(level: str, device: tuple[str, str], matches: Mapping[str, str | None],
         limit: int | None) -> dict[str, Any]:
    """The trace request of a tracer: ``device`` is (option, id), ``matches`` the match
    options given (None: not given). Raises :class:`BadOption`."""
    option, device_id = device
    cond: dict[str, Any] = {}
    for name, value in matches.items():
        if value is not None:
            cond.update(_condition(name, value))
    if limit is not None and not 0 < limit <= LIMIT_MAX:
        raise BadOption("--limit", "must be a positive number")
    return {"name": NAME_PREFIX + level, "deviceType": DEVICES[option], "deviceId": device_id,
            "condition": cond, "limit": LIMIT_MAX if limit is None else limit, "enabled": True}


def _condition(option: str, value: str) -> dict[str, Any]:
    if option == "--ethertype":
        return {"dlType": _number(option, value, 0, 0xFFFF)}
    if option in ("--mac-src", "--mac-dst"):
        return {"dlSrc" if option == "--mac-src" else "dlDst": value.lower()}
    if option in ("--ip-src", "--ip-dst"):
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise BadOption(option, f"{value!r} is not an IP address or CIDR") from None
        side = "Src" if option == "--ip-src" else "Dst"
        return {f"nw{side}Address": str(net.network_address), f"nw{side}Length": net.prefixlen}
    if option == "--ip-protocol":
        return {"nwProto": _number(option, value, 0, 255)}
    port = _number(option, value, 0, 65535)
    return {"tpSrc" if option == "--src-port" else "tpDst": {"start": port, "end": port}}


def _number(option: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value, 0)
    except ValueError:
        raise BadOption(option, f"{value!r} is not a number") from None
    if not low <= number <= high:
        raise BadOption(option, f"must be between {low} and {high}")
    return number


def args(request: Mapping[str, Any]) -> str:
    """The options that add ``request`` again (for ``list`` and ``remove``)."""
    name = str(request.get("name") or "")
    level = name[len(NAME_PREFIX):] if name.startswith(NAME_PREFIX) else "--debug"
    device = next((o for o, t in DEVICES.items() if t == request.get("deviceType")), "--port")
    words = [level if level in LEVELS else "--debug", device, str(request.get("deviceId"))]
    cond = request.get("condition") or {}
    if cond.get("dlType") is not None:
        words += ["--ethertype", str(cond["dlType"])]
    for option, key in (("--mac-src", "dlSrc"), ("--mac-dst", "dlDst")):
        if cond.get(key):
            words += [option, str(cond[key])]
    for option, side in (("--ip-src", "Src"), ("--ip-dst", "Dst")):
        addr = cond.get(f"nw{side}Address")
        if addr:
            length = cond.get(f"nw{side}Length")
            full = length is None or length == ipaddress.ip_address(addr).max_prefixlen
            words += [option, addr if full else f"{addr}/{length}"]
    if cond.get("nwProto") is not None:
        words += ["--ip-protocol", str(cond["nwProto"])]
    for option, key in (("--src-port", "tpSrc"), ("--dst-port", "tpDst")):
        rng = cond.get(key)
        if rng:
            words += [option, str(rng.get("start"))]
    limit = request.get("limit")
    if limit is not None and limit != LIMIT_MAX:
        words += ["--limit", str(limit)]
    return " ".join(words)
