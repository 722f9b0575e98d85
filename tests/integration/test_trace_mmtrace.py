"""``mm-trace`` against a real API: tracers added, listed in re-addable syntax, removed by the
options that added them, flushed; bad options named, nothing written."""

from __future__ import annotations

import pytest
from rest_call import ok

from ryu_midonet.cmd import mmtrace

pytestmark = pytest.mark.integration


def _run(capsys: pytest.CaptureFixture[str], api_url: str, *words: str) -> tuple[int, str, str]:
    code = mmtrace.main(["--midonet-url", api_url, "-A", *words])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_tracers_are_added_listed_removed_and_flushed(
        api_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    web = f"--trace --bridge {bridge['id']} --ip-src 192.0.2.1 --dst-port 80"
    ping = f"--debug --bridge {bridge['id']} --ethertype 2048 --ip-dst 10.0.0.0/24 --limit 3"
    for words in (web, ping):
        assert _run(capsys, api_url, "add", *words.split())[0] == 0
    code, out, _ = _run(capsys, api_url, "list")
    assert code == 0 and sorted(out.splitlines()) == sorted(
        [f"tracer: {ping}", f"tracer: {web}"])
    request = next(t for t in ok("GET", api_url + "/traces") if t["limit"] == 3)
    assert request["condition"]["nwDstLength"] == 24 and request["enabled"] is True

    assert _run(capsys, api_url, "remove", *web.split())[1] == "Removed 1 tracer(s)\n"
    ok("PUT", request["uri"], {**request, "enabled": False})
    assert _run(capsys, api_url, "list", "-L")[1] == ""
    assert _run(capsys, api_url, "flush", "-D")[1] == "Removed 1 tracer(s)\n"
    assert _run(capsys, api_url, "flush")[1] == "Removed 0 tracer(s)\n"


def test_bad_options_are_named_and_nothing_is_written(
        api_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    code, out, err = _run(capsys, api_url, "add", "--bridge", bridge["id"], "--ip-dst", "nope")
    assert (code, out) == (2, "") and "--ip-dst:" in err
    code, _, err = _run(capsys, api_url, "add", "--router", bridge["id"])
    assert code == 1 and "deviceId" in err  # the API refuses: no such router
    assert ok("GET", api_url + "/traces") == []
