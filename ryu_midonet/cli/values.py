"""Conversions between CLI words and API values; pure functions, no I/O.

Each ``parse_*`` raises :class:`CliError` naming what is wrong; each ``fmt_*`` returns the text
the CLI prints.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from ryu_midonet.cli.errors import CliError

_MAC = re.compile(r"^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$")
_MAC_MASK = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$")
_NAT_TARGET = re.compile(
    r"^(?P<a1>[^-:]+)(?:-(?P<a2>[^:]+))?(?::(?P<p1>-?\d+)(?:-(?P<p2>-?\d+))?)?$")
_PORT_RANGE = re.compile(r"^(?P<p1>\d+)(?:-(?P<p2>\d+))?$")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) in (32, 36)


def split_inverted(text: str) -> tuple[bool, str]:
    """``!10.0.0.0/16`` -> ``(True, "10.0.0.0/16")``."""
    if text.startswith("!"):
        return True, text[1:]
    return False, text


def parse_int(name: str, text: str, lo: int | None = None, hi: int | None = None) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise CliError(f"{name}: {text!r} is not an integer") from None
    if lo is not None and hi is not None and not lo <= value <= hi:
        raise CliError(f"{name}: {value} is not between {lo} and {hi}")
    if lo is not None and value < lo:
        raise CliError(f"{name}: {value} is less than {lo}")
    if hi is not None and value > hi:
        raise CliError(f"{name}: {value} is more than {hi}")
    return value


def parse_bool(name: str, text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise CliError(f"{name}: {text!r} is not true or false")


def fmt_bool(value: Any) -> str:
    return "true" if value else "false"


def parse_ip(name: str, text: str, version: int | None = None) -> str:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise CliError(f"{name}: {text!r} is not an IP address") from None
    if version is not None and addr.version != version:
        raise CliError(f"{name}: {text!r} is not an IPv{version} address")
    return str(addr)


def parse_cidr(name: str, text: str) -> tuple[str, int]:
    """``10.0.0.0/16`` -> ``("10.0.0.0", 16)``; a bare address is a host prefix (/32)."""
    addr_text, _, length_text = text.partition("/")
    addr = ipaddress.ip_address(parse_ip(name, addr_text))
    if not length_text:
        return str(addr), addr.max_prefixlen
    length = parse_int(name, length_text, 0, addr.max_prefixlen)
    return str(addr), length


def fmt_cidr(addr: str | None, length: int | None) -> str | None:
    """A host prefix prints as the bare address, anything else as ``addr/len``."""
    if addr is None:
        return None
    if length is None:
        return addr
    if length == ipaddress.ip_address(addr).max_prefixlen:
        return addr
    return f"{addr}/{length}"


def parse_mac(name: str, text: str) -> str:
    if not _MAC.match(text):
        raise CliError(f"{name}: {text!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return ":".join(f"{int(b, 16):02x}" for b in text.split(":"))


def parse_mac_mask(name: str, text: str) -> str:
    if not _MAC_MASK.match(text):
        raise CliError(f"{name}: {text!r} is not a MAC mask (xxxx.xxxx.xxxx)")
    return text.lower()


def parse_port_range(name: str, text: str) -> dict[str, int]:
    """``80`` -> ``{"start": 80, "end": 80}``; ``1024-65535`` -> a range."""
    m = _PORT_RANGE.match(text)
    if not m:
        raise CliError(f"{name}: {text!r} is not a port or port range (N or N-M)")
    start = parse_int(name, m["p1"], 0, 65535)
    end = parse_int(name, m["p2"], 0, 65535) if m["p2"] else start
    if start > end:
        raise CliError(f"{name}: the range {text} starts after it ends")
    return {"start": start, "end": end}


def fmt_port_range(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    start, end = value.get("start"), value.get("end")
    if start is None:
        start = end
    if start is None:
        return None
    if end is None or end == start:
        return str(start)
    return f"{start}-{end}"


def _nat_port(name: str, text: str) -> int:
    """A NAT target port; negative numbers are signed 16-bit (``-1`` is 65535)."""
    port = parse_int(name, text, -32768, 65535)
    return port + 65536 if port < 0 else port


def parse_nat_targets(name: str, text: str) -> list[dict[str, Any]]:
    """``IP[-IP][:PORT[-PORT]]``, comma-separated; ``198.51.100.2:1--1`` is ports 1-65535."""
    targets = []
    for item in text.split(","):
        item = item.strip()
        m = _NAT_TARGET.match(item)
        if not m:
            raise CliError(f"{name}: {item!r} is not IP[-IP][:PORT[-PORT]]")
        a_from = parse_ip(name, m["a1"], 4)
        a_to = parse_ip(name, m["a2"], 4) if m["a2"] else a_from
        p_from = _nat_port(name, m["p1"]) if m["p1"] else 0
        p_to = _nat_port(name, m["p2"]) if m["p2"] else p_from
        if ipaddress.IPv4Address(a_from) > ipaddress.IPv4Address(a_to):
            raise CliError(f"{name}: the address range {item} starts after it ends")
        if p_from > p_to:
            raise CliError(f"{name}: the port range in {item} starts after it ends")
        targets.append({"addressFrom": a_from, "addressTo": a_to,
                        "portFrom": p_from, "portTo": p_to})
    return targets


def _fmt_nat_port(port: int) -> str:
    """Port 65535 prints as -1, the way MidoNet's CLI always showed it."""
    return "-1" if port == 65535 else str(port)


def fmt_nat_targets(targets: list[dict[str, Any]] | None) -> str | None:
    if not targets:
        return None
    out = []
    for t in targets:
        text = t.get("addressFrom") or ""
        a_to = t.get("addressTo")
        if a_to and a_to != text:
            text = f"{text}-{a_to}"
        p_from, p_to = int(t.get("portFrom") or 0), int(t.get("portTo") or 0)
        if p_from and p_to and p_from != p_to:
            text = f"{text}:{_fmt_nat_port(p_from)}-{_fmt_nat_port(p_to)}"
        elif p_from:
            text = f"{text}:{_fmt_nat_port(p_from)}"
        elif p_to:
            text = f"{text}:0-{_fmt_nat_port(p_to)}"
        out.append(text)
    return ",".join(out)


def fmt_signed16(value: int) -> int:
    """EtherTypes print as Java shorts did: 0x86DD (IPv6) is -31011."""
    return value - 65536 if 32768 <= value <= 65535 else value


def fmt_str_list(values: list[Any] | None) -> str:
    """A list as the CLI prints interface addresses: ``[]`` or ``['10.0.0.1', 'fe80::1']``."""
    return "[" + ", ".join(f"'{v}'" for v in values or []) + "]"
