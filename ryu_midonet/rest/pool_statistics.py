"""``/pool_statistics``: always empty, as MidoNet kept no pool statistics (the Operations
Guide: "There are no pool statistics"). Served so that python-midonetclient's
``get_pool_statistics`` and midonet-cli's ``pool-statistic list`` answer an empty list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.params import uuid_param
from ryu_midonet.rest.resource import LINK, UUID, Resource, Shape
from ryu_midonet.rest.wsgi import Reply, Request

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api

_COUNT = {"type": "integer", "minimum": 0}
POOL_STATISTIC = Resource("poolStatistic", "pool_statistics", "PoolStatistic", 1, Shape({
    "id": UUID, "uri": LINK, "poolId": UUID, "pool": LINK, "bytesIn": _COUNT,
    "bytesOut": _COUNT, "activeConnections": _COUNT, "totalConnections": _COUNT}))


def register(api: Api) -> None:
    """Add the pool statistics routes to ``api``."""

    def list_all(req: Request) -> Reply:
        return Reply(body=[])

    def get(req: Request) -> Reply:
        raise errors.NotFound("poolStatistic", uuid_param(req.params["id"], "poolStatistic"))

    s = POOL_STATISTIC
    api.add("GET", f"/{s.path}", list_all, s.collection_media,
            "List pool statistics (none are kept)")
    api.add("GET", f"/{s.path}/{{id}}", get, s.media, "Show a pool statistic (none exist)")
