"""IP address groups: named sets of addresses that rules match on."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

SPEC = KindSpec(
    "ipAddrGroup",
    {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "addresses": Field("strs", [], create=False, update=False),
    },
)


class IpAddrGroupAddresses(Ops):
    """Adding addresses to IP address groups and removing them."""

    def add_ip_addr(self, group_id: str, addr: Any) -> str:
        try:
            addr = str(ipaddress.ip_address(addr))
        except (ValueError, TypeError):
            raise errors.InvalidInput("addr", f"{addr!r} is not an IP address") from None

        def work(txn: Txn) -> str:
            group = txn.require("ipAddrGroup", group_id)
            if addr not in group["addresses"]:
                group["addresses"].append(addr)
                txn.put("ipAddrGroup", group)
            return addr

        return self.store.transaction(work)

    def remove_ip_addr(self, group_id: str, addr: str) -> None:
        try:
            addr = str(ipaddress.ip_address(addr))
        except ValueError:
            raise errors.NotFound("address", addr) from None

        def work(txn: Txn) -> None:
            group = txn.require("ipAddrGroup", group_id)
            if addr not in group["addresses"]:
                raise errors.NotFound("address", addr)
            group["addresses"].remove(addr)
            txn.put("ipAddrGroup", group)

        self.store.transaction(work)
