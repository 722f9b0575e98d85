"""L4 load balancing: load balancers, their pools, pool members and VIPs, health monitors.

As in MidoNet's CLI and the Operations Guide (chapter 9)::

    load-balancer create                                    -> lb0
    router router1 set load-balancer lb0
    load-balancer lb0 create pool lb-method ROUND_ROBIN     -> lb0:pool0
    load-balancer lb0 pool pool0 create member address 192.168.100.100 protocol-port 80
    load-balancer lb0 pool pool0 create vip address 203.0.113.2 persistence SOURCE_IP ...
    health-monitor create type TCP delay 100 max-retries 50 timeout 500   -> hm0
    load-balancer lb0 pool pool0 set health-monitor hm0
    load-balancer lb0 pool pool0 health-monitor show
    health-monitor hm0 pool list

Listings leave out what the guide never prints: the only protocol and monitor type (TCP), a
status while it is ACTIVE (``status INACTIVE`` shows a member health monitoring took out) and a
VIP's persistence when there is none (``set persistence NONE`` removes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID, STATE
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, same, top

COUNT_MAX = 2147483647


@dataclass(frozen=True)
class _Quiet(a.Enum):
    """An enum left out of listings while null or one of ``hidden``."""

    hidden: tuple[str, ...] = ()
    none_word: str | None = None  # the word that sets it to null (``persistence NONE``)

    def value(self, dto: a.Dto, ctx: a.RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        if raw is None or raw in self.hidden:
            return None
        return super().value(dto, ctx)

    def parse(self, text: str, ctx: a.RefContext) -> a.Fields:
        if self.none_word is not None and text == self.none_word:
            return {self.field: None} if self.field else {}
        return super().parse(text, ctx)


def _status(*hidden: str) -> _Quiet:
    return _Quiet("status", "status", writable=False, hidden=hidden)


LOAD_BALANCER_REF = a.Ref("load-balancer", "loadBalancerId", writable=False, ref="load-balancer")

POOL_MEMBER = ObjType("pool-member", "pm", "pm", (
    ID,
    a.Ip("address", "address", version=4),
    a.Int("protocol-port", "protocolPort", lo=1, hi=65535),
    a.Int("weight", "weight", lo=0, hi=256),
    STATE,
    _status("ACTIVE"),
), required=("address", "protocol-port"))

VIP = ObjType("vip", "vip", "vip", (
    ID,
    LOAD_BALANCER_REF,
    a.Ip("address", "address", version=4),
    a.Int("protocol-port", "protocolPort", lo=1, hi=65535),
    _Quiet("persistence", "sessionPersistence", clearable=True,
           choices=same("SOURCE_IP"), none_word="NONE"),
    STATE,
), required=("address", "protocol-port"))

POOL = ObjType("pool", "pool", "pool", (
    ID,
    LOAD_BALANCER_REF,
    a.Ref("health-monitor", "healthMonitorId", ref="health-monitor", clearable=True),
    a.Enum("lb-method", "lbMethod", choices=same("ROUND_ROBIN")),
    _Quiet("protocol", "protocol", writable=False, choices=same("TCP"), hidden=("TCP",)),
    STATE,
    _status("ACTIVE"),
), required=("lb-method",))

HEALTH_MONITOR = ObjType("health-monitor", "hm", "hm", (
    ID,
    _Quiet("type", "type", choices=same("TCP"), hidden=("TCP",)),
    a.Int("delay", "delay", lo=1, hi=COUNT_MAX),
    a.Int("timeout", "timeout", lo=1, hi=COUNT_MAX),
    a.Int("max-retries", "maxRetries", lo=1, hi=COUNT_MAX),
    STATE,
    _status("ACTIVE"),
), required=("delay", "timeout", "max-retries"))

LOAD_BALANCER = ObjType("load-balancer", "lb", "lb", (
    ID,
    a.Ref("router", "routerId", ref="router", clearable=True),
    STATE,
))


def _pool_item(parent: a.Dto | None, pool: a.Dto) -> str:
    return f"pools/{pool['id']}"


POOL.children = {
    "member": Collection(
        "member", (POOL_MEMBER,), lambda p: f"pools/{parent_id(p)}/pool_members",
        lambda p, x: f"pool_members/{x['id']}",
        create_path=lambda p: f"pools/{parent_id(p)}/pool_members"),
    "vip": Collection(
        "vip", (VIP,), lambda p: f"pools/{parent_id(p)}/vips", lambda p, x: f"vips/{x['id']}",
        create_path=lambda p: f"pools/{parent_id(p)}/vips"),
}
POOL.follows = {"health-monitor": ("health-monitor", "healthMonitorId")}
LOAD_BALANCER.children = {
    "pool": Collection(
        "pool", (POOL,), lambda lb: f"load_balancers/{parent_id(lb)}/pools", _pool_item,
        create_path=lambda lb: f"load_balancers/{parent_id(lb)}/pools"),
    "vip": Collection(
        "vip", (VIP,), lambda lb: f"load_balancers/{parent_id(lb)}/vips",
        lambda lb, x: f"vips/{x['id']}"),
}
HEALTH_MONITOR.children = {
    "pool": Collection(
        "pool", (POOL,), lambda hm: f"health_monitors/{parent_id(hm)}/pools", _pool_item),
}

CLI = CliKind(top("load-balancer", LOAD_BALANCER, "load_balancers"))
HEALTH_MONITORS = CliKind(top("health-monitor", HEALTH_MONITOR, "health_monitors"))
