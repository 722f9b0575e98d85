"""The tracker timeout policies the agent writes, in a real (throwaway) OVSDB server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ovsdbapp.schema.open_vswitch import impl_idl

from ryu_midonet.agent.cttimeouts import ZoneTimeouts, policy
from ryu_midonet.ovsdb.switch import LocalSwitch
from ryu_midonet.ovsdb.zonetimeouts import owned_zones

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
pytestmark = pytest.mark.skipif(not (shutil.which("ovsdb-server") and SCHEMA.exists()),
                                reason="needs ovsdb-server")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LocalSwitch]]:
    """One server and one switch connection (ovsdbapp keeps one connection per process)."""
    tmp = tmp_path_factory.mktemp("ovsdb")
    sock = tmp / "db.sock"
    subprocess.run(["ovsdb-tool", "create", str(tmp / "conf.db"), str(SCHEMA)], check=True)
    proc = subprocess.Popen(["ovsdb-server", str(tmp / "conf.db"), f"--remote=punix:{sock}",
                             f"--unixctl={tmp / 'ctl'}", "--no-chdir", f"--log-file={tmp / 'log'}"])
    try:
        vsctl(f"unix:{sock}", "--retry", "--timeout=10", "init")
        switch = LocalSwitch(f"unix:{sock}")
        yield f"unix:{sock}", switch
        switch.api.ovsdb_connection.stop()
        impl_idl.OvsdbIdl._ovsdb_connection = None
    finally:
        proc.terminate()
        proc.wait(10)


def vsctl(remote: str, *args: str) -> str:
    return subprocess.run(["ovs-vsctl", f"--db={remote}", "--no-wait", *args], check=True,
                          capture_output=True, text=True, timeout=20).stdout


def zones_listed(remote: str, datapath: str = "netdev") -> str:
    return vsctl(remote, "list-zone-tp", datapath)


def test_rows_written_kept_and_removed(server: tuple[str, LocalSwitch]) -> None:
    db, switch = server
    assert switch.set_zone_timeouts({}) == []
    assert vsctl(db, "--columns=_uuid", "list", "Datapath").strip() == ""

    # a Datapath row for the bridge's type is created; each zone gets its policy
    assert switch.set_zone_timeouts({5: policy(86400), 9: policy(600)}) == []
    listed = zones_listed(db)
    assert "Zone:5" in listed and "Zone:9" in listed
    assert "tcp_syn_recv=86400" in listed and "tcp_syn_recv=600" in listed
    assert owned_zones(switch.api, "netdev") == {5: policy(86400), 9: policy(600)}

    # the operator's zones and other datapaths are not the agent's
    vsctl(db, "--", "--id=@dp", "create", "Datapath", "external_ids:by=operator",
          "--", "set", "Open_vSwitch", ".", "datapaths:system=@dp")
    vsctl(db, "add-zone-tp", "system", "zone=5", "tcp_syn_sent=7")
    vsctl(db, "add-zone-tp", "netdev", "zone=11", "udp_first=3")
    assert switch.set_zone_timeouts({5: policy(120), 11: policy(120)}) == [11]
    assert owned_zones(switch.api, "netdev") == {5: policy(120)}
    assert "udp_first=3" in zones_listed(db) and "Zone:9" not in zones_listed(db)
    assert "tcp_syn_sent=7" in zones_listed(db, "system")

    # idempotent: the same zones again change nothing
    before = vsctl(db, "--columns=_uuid", "list", "CT_Timeout_Policy")
    assert switch.set_zone_timeouts({5: policy(120), 11: policy(120)}) == [11]
    assert vsctl(db, "--columns=_uuid", "list", "CT_Timeout_Policy") == before

    # no zone any more: the agent's rows go, nothing else does
    switch.set_zone_timeouts({})
    assert owned_zones(switch.api, "netdev") == {}
    listed = zones_listed(db)
    assert "Zone:5" not in listed and "Zone:11" in listed
    assert "tcp_syn_sent=7" in zones_listed(db, "system")
    assert len(vsctl(db, "--columns=_uuid", "list", "CT_Zone").split()) == 2 * 3  # 2 rows


def test_a_new_agent_removes_what_a_previous_one_left(server: tuple[str, LocalSwitch]
                                                      ) -> None:
    db, switch = server
    ZoneTimeouts(switch.set_zone_timeouts, 120).need([5])
    assert "Zone:5" in zones_listed(db)
    later = ZoneTimeouts(switch.set_zone_timeouts, 120)
    later.need([])
    assert "Zone:5" not in zones_listed(db)


def test_policies_follow_the_zones_and_come_back_after_a_reconnect() -> None:
    calls: list[dict[int, dict[str, int]]] = []
    fail = [True]

    def apply(wanted: dict[int, dict[str, int]]) -> list[int]:
        if fail[0]:
            fail[0] = False
            raise RuntimeError("database away")
        calls.append(wanted)
        return []

    zones = ZoneTimeouts(apply, 300)
    zones.need([4])  # fails: tried again next time
    zones.need([4])
    zones.need([4])
    assert calls == [{4: policy(300)}]
    zones.reset()
    zones.need([4])
    zones.need([])
    assert calls == [{4: policy(300)}, {4: policy(300)}, {}]
    off = ZoneTimeouts(apply, 0)
    off.need([4])
    assert calls[-1] == {}
    assert policy(300) == {"tcp_syn_recv": 300}
