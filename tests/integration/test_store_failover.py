"""A Redis Sentinel failover under traffic: agents and the API follow the new master.

The sandbox's store is a master, a replica and three sentinels, reached over the underlay from
every host namespace; agents and the API are given the sentinels (``redis+sentinel://``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.integration.test_store_failures import Cloud, cloud_up
from tests.integration.traffic import Probe
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _vm(name: str, host: str, ip: str, gateway: str, mac: str) -> dict[str, str]:
    return {"name": name, "host": host, "interface": f"rm-sfo{name[-1]}-tap", "mac": mac,
            "ip": ip, "gateway": gateway}


SANDBOX = {
    "name": "sfo",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.98.0.0/24"},  # the root namespace joins it: apart from others
    "redis": {"sentinel": True},
    "hosts": [{"name": "h1", "underlay_ip": "10.98.0.1"},
              {"name": "h2", "underlay_ip": "10.98.0.2"}],
    "vms": [
        _vm("vm1", "h1", "10.0.0.11/24", "10.0.0.1", "02:00:00:00:5f:11"),
        _vm("vm2", "h1", "10.0.0.12/24", "10.0.0.1", "02:00:00:00:5f:12"),
        _vm("vm3", "h2", "10.0.0.13/24", "10.0.0.1", "02:00:00:00:5f:13"),
        _vm("vm4", "h1", "10.0.1.14/24", "10.0.1.1", "02:00:00:00:5f:14"),
        _vm("vm5", "h2", "10.0.1.15/24", "10.0.1.1", "02:00:00:00:5f:15"),
    ],
    "api": True,
    "agent": "default",
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    yield from cloud_up(SANDBOX, tmp_path_factory.mktemp("failover"))


def test_sentinel_failover_under_traffic(cloud: Cloud) -> None:
    sb = cloud.sb
    assert sb.redis_master() == "redis"
    pids = cloud.agent_pids()
    probe = Probe(sb.vm("vm1"), ["10.0.0.12", "10.0.0.13", "10.0.1.14", "10.0.1.15"])
    time.sleep(1)
    before = [cloud.api("POST", "/bridges", {"name": f"before-{n}"})[1]["id"]
              for n in range(5)]
    # replication is asynchronous: what the replica has when the master dies survives
    assert cloud.topo.store.redis.execute_command("WAIT", 1, 5000) == 1
    sb.stop_part("redis-master", kill=True)
    killed = time.time()

    def promoted() -> bool:
        try:
            return sb.redis_master() == "redis-2"
        except RuntimeError:
            return False

    assert wait_until(promoted, 30), "the sentinels did not promote the replica"
    # writes continue through the same URL, on the new master
    assert wait_until(lambda: cloud.api("POST", "/bridges", {"name": "after"})[0] == 201, 15)
    back = time.time()
    time.sleep(7)
    report = probe.stop()
    cloud.check(report, back)
    status, bridges = cloud.api("GET", "/bridges")
    ids = {b["id"] for b in bridges}
    assert status == 200 and set(before) <= ids, "writes replicated before the kill were lost"
    assert cloud.agent_pids() == pids
    assert back - killed < 30

    # the old master comes back as a replica of the new one
    sb.start_part("redis")
    assert sb.redis_master() == "redis-2"
