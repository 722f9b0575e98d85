"""Bridges: L2 devices with ports."""

from __future__ import annotations

from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.kinds.chain import chain_ref
from ryu_midonet.nsdb.spec import KindSpec

SPEC = KindSpec(
    "bridge",
    {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "adminStateUp": Field("bool", True, nullable=False),
        "inboundFilterId": chain_ref(),
        "outboundFilterId": chain_ref(),
        "inboundMirrorIds": Field("uuids", [], create=False, update=False),
        "outboundMirrorIds": Field("uuids", [], create=False, update=False),
    },
    owns=(("port", "deviceId"),),
)
