"""midonet-cli: flags, environment and ~/.midonetrc (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ryu_midonet.cli import settings
from ryu_midonet.cli.http import media_type


def test_defaults(tmp_path: Path) -> None:
    s = settings.load([], env={}, home=tmp_path)
    assert s.url == "http://127.0.0.1:8181/midonet-api"
    assert not s.no_auth and s.command is None and s.tenant is None


def test_flags_win_over_environment_over_rc_file(tmp_path: Path) -> None:
    (tmp_path / ".midonetrc").write_text(
        "[cli]\napi_url = http://rc:1/midonet-api\nusername = rcuser\ntenant = rct\n")
    s = settings.load([], env={}, home=tmp_path)
    assert (s.url, s.user, s.tenant) == ("http://rc:1/midonet-api", "rcuser", "rct")
    s = settings.load([], env={"MIDONET_URL": "http://env:2/midonet-api"}, home=tmp_path)
    assert s.url == "http://env:2/midonet-api"
    s = settings.load(["--midonet-url", "http://flag:3/midonet-api", "-u", "me", "-p", "pw",
                       "-t", "t1", "-A"], env={"MIDONET_URL": "http://env:2"}, home=tmp_path)
    assert (s.url, s.user, s.password, s.tenant, s.no_auth) == (
        "http://flag:3/midonet-api", "me", "pw", "t1", True)


def test_eval_takes_the_rest_of_the_arguments(tmp_path: Path) -> None:
    s = settings.load(["-A", "-e", "router router0 add port addresses 10.0.0.1/24"], env={},
                      home=tmp_path)
    assert s.command == "router router0 add port addresses 10.0.0.1/24"
    s = settings.load(["-A", "-e", "chain", "chain5", "add", "rule", "src", "!10.0.0.0/16",
                       "type", "drop"], env={}, home=tmp_path)
    assert s.command == "chain chain5 add rule src !10.0.0.0/16 type drop"
    s = settings.load(["-A", "-e", "--", "list", "bridge"], env={}, home=tmp_path)
    assert s.command == "list bridge"
    s = settings.load(["-e", "router", "create", "name", "Edge Router"], env={}, home=tmp_path)
    assert s.command == "router create name 'Edge Router'"


def test_unknown_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        settings.load(["--bogus"], env={}, home=tmp_path)
    assert info.value.code == 2
    assert "usage: midonet-cli" in capsys.readouterr().err


@pytest.mark.parametrize("path, media", [
    ("bridges", "application/vnd.org.midonet.Bridge-v4+json"),
    ("routers/x/ports", "application/vnd.org.midonet.Port-v3+json"),
    ("bridges/x/ports", "application/vnd.org.midonet.Port-v3+json"),
    ("hosts/x/ports", "application/vnd.org.midonet.HostInterfacePort-v1+json"),
    ("port_groups/x/ports", "application/vnd.org.midonet.PortGroupPort-v1+json"),
    ("tunnel_zones/x/hosts", "application/vnd.org.midonet.TunnelZoneHost-v1+json"),
    ("chains/x/rules", "application/vnd.org.midonet.Rule-v2+json"),
    ("routers/x/routes", "application/vnd.org.midonet.Route-v1+json"),
    ("ports/x/link", "application/vnd.org.midonet.PortLink-v1+json"),
    ("ip_addr_groups/x/ip_addrs", "application/vnd.org.midonet.IpAddrGroupAddr-v1+json"),
    ("system_state", "application/vnd.org.midonet.SystemState-v2+json"),
    ("login", "application/json"),
])
def test_write_media_types(path: str, media: str) -> None:
    assert media_type(path) == media


def test_login_token_from_body_header_or_cookie() -> None:
    from ryu_midonet.cli.http import _cookie_token, _login_reply

    assert _login_reply(b'{"key": "abc", "expires": "x"}', None) == {"key": "abc"}
    assert _login_reply(b"", "hdr") == {"key": "hdr"}
    assert _cookie_token("sessionId=tok; Expires=Wed, 01 Jan 2031 00:00:00 GMT") == "tok"
    assert _cookie_token(None) is None
