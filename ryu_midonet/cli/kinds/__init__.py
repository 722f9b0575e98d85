"""The CLI's object kinds, one module each; :data:`CLIS` registers them.

Each module declares its object types (attributes in display order), their child collections
and a :class:`~ryu_midonet.cli.objtype.CliKind` named ``CLI``: its collection at the root, if
any. The attribute order and the rules for leaving attributes out follow MidoNet's own CLI, and
where the Operations Guide prints something else the guide wins (for example the guide never
prints ``plugged``, ``asn 0``, ``learned false`` or ``no-vlan false``).

Adding a kind: write its module and add it here, in the order the root lists collections.
"""

from __future__ import annotations

from ryu_midonet.cli.kinds import (
    bridge,
    chain,
    host,
    ip_addr_group,
    l2insertion,
    lb,
    port,
    port_group,
    route,
    router,
    rule,
    sfc,
    system_state,
    tunnel_zone,
    vtep,
)
from ryu_midonet.cli.objtype import CliKind

CLIS: tuple[CliKind, ...] = (
    router.CLI,
    route.CLI,
    bridge.CLI,
    port.CLI,
    chain.CLI,
    rule.CLI,
    host.CLI,
    tunnel_zone.CLI,
    port_group.CLI,
    ip_addr_group.CLI,
    lb.CLI,
    lb.HEALTH_MONITORS,
    sfc.PORT_PAIRS,
    sfc.PORT_PAIR_GROUPS,
    sfc.FLOW_CLASSIFIERS,
    sfc.PORT_CHAINS,
    l2insertion.CLI,
    vtep.CLI,
    system_state.CLI,
)
