"""python-midonetclient 5.2.0 and its midonet-cli log in to our API with real credentials.

Right credentials work (the other interop tests use them throughout); wrong ones are refused
as MidoNet refuses them, and a readonly user can read but not write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webob.exc

from ryu_midonet.auth import Auth
from tests.support import credentials

pytestmark = pytest.mark.interop


@pytest.fixture
def fresh_login(midonetclient: Any) -> Iterator[None]:
    """The library keeps one token per process: start and end without it."""
    midonetclient.auth_lib._token = None
    yield
    midonetclient.auth_lib._token = None


def test_library_logs_in_and_works(midonetclient: Any, api_url: str,
                                   fresh_login: None) -> None:
    login = credentials.login_of(api_url)
    assert login is not None
    api = midonetclient.api.MidonetApi(api_url, login.user, login.password, "admin")
    api.add_bridge().name("logged-in").tenant_id("t").create()
    assert [b.get_name() for b in api.get_bridges()] == ["logged-in"]
    assert midonetclient.auth_lib._token  # it went through POST /login and kept the token


def test_library_wrong_password_is_refused(midonetclient: Any, api_url: str,
                                           fresh_login: None) -> None:
    api = midonetclient.api.MidonetApi(api_url, "admin", "not-the-password", "admin")
    with pytest.raises(webob.exc.HTTPUnauthorized):
        api.get_bridges()


def test_library_readonly_user_reads_only(midonetclient: Any, api_url: str, redis_url: str,
                                          fresh_login: None) -> None:
    Auth.from_url(redis_url).users.add("viewer", "readonly", "viewer-pass")
    api = midonetclient.api.MidonetApi(api_url, "viewer", "viewer-pass", "admin")
    assert api.get_bridges() == []
    with pytest.raises(webob.exc.HTTPForbidden):
        api.add_bridge().name("nope").tenant_id("t").create()


def test_midonet_cli_logs_in_from_midonetrc(midonet_cli_script: Callable[..., Any],
                                            api_url: str, redis_url: str) -> None:
    done = midonet_cli_script(api_url, "create bridge name from-cli")
    assert done.returncode == 0, (done.stdout, done.stderr)
    bad = midonet_cli_script(api_url, "list bridge", login=("admin", "wrong"))
    assert bad.returncode != 0
    assert "Invalid credential" in bad.stdout + bad.stderr
    Auth.from_url(redis_url).users.add("viewer", "readonly", "viewer-pass")
    listed = midonet_cli_script(api_url, "list bridge", login=("viewer", "viewer-pass"))
    assert listed.returncode == 0 and "from-cli" in listed.stdout
    refused = midonet_cli_script(api_url, "create bridge name nope",
                                 login=("viewer", "viewer-pass"))
    assert refused.returncode != 0 and "403" in refused.stdout + refused.stderr
