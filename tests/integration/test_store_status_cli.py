"""Hosts keeping a topology the store lost, as operators see them: REST, midonet-cli, READONLY."""

from __future__ import annotations

import time
import uuid

import pytest

from ryu_midonet.nsdb import divergence, errors
from ryu_midonet.nsdb.divergence import Divergence
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from tests.integration.cli_guide_helpers import Cli


def test_store_status_shows_hosts_keeping_their_cache_and_accept(cli: Cli, redis_url: str
                                                                 ) -> None:
    store = Store.from_url(redis_url)
    Topology(store).create("bridge", {"name": "b"})
    epoch = store.epoch()
    assert cli.ok("store status") == [f"store epoch {epoch} version 1"]
    host_id = str(uuid.uuid4())
    found = Divergence("old-epoch", 57, epoch, 1, time.time())
    divergence.report(store, host_id, "os004", found, grace=0)

    lines = cli.ok("store status")
    assert lines[0] == f"store epoch {epoch} version 1"
    assert lines[1].startswith("host os004 keeps cached version 57 since ")
    assert lines[1].endswith("the topology store lost its data (its history started again): "
                             "it holds version 1, this host's cache version 57")
    assert "os004" in cli.ok("show system-state information")[0]

    accepted = cli.ok("store accept")
    new_epoch = store.epoch()
    assert new_epoch != epoch and accepted[0] == f"store epoch {new_epoch} version 2"
    assert divergence.accepted_epoch(store) == new_epoch
    divergence.report(store, host_id, "os004", None)  # what the agent does once it applied it
    assert cli.ok("store status") == [f"store epoch {new_epoch} version 2"]


def test_store_command_errors(cli: Cli) -> None:
    assert cli.fails("store") == "midonet-cli: error: usage: store status | store accept"
    assert cli.fails("store forget") == "midonet-cli: error: usage: store status | store accept"


def test_readonly_refuses_operators_but_not_hosts(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    topo.set_system_state({"availability": "READONLY"})
    host_id = str(uuid.uuid4())
    host = topo.register_host(host_id, "os005", ["10.0.0.5"], [])
    assert host["name"] == "os005" and topo.heartbeat(host_id, 3000)
    with pytest.raises(errors.ReadOnly):
        topo.create("bridge", {"name": "frozen"})
    with pytest.raises(errors.ReadOnly):
        divergence.accept(topo.store)
