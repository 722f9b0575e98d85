"""Attributes several kinds share."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a


def chain_ref(name: str, field_: str) -> a.Ref:
    """A clearable reference to a chain (filters, router chains)."""
    return a.Ref(name, field_, ref="chain", clearable=True)


ID = a.Attr("id", "id", show=False, writable=False)
TENANT = a.Attr("tenant", "tenantId", show=False)
STATE = a.State("state", "adminStateUp")
INFILTER = chain_ref("infilter", "inboundFilterId")
OUTFILTER = chain_ref("outfilter", "outboundFilterId")
