"""The base of the API's URIs when ``wsapi_public_url`` is not set, and its validation."""

from __future__ import annotations

import socket

import pytest

from ryu_midonet.rest.server import default_public_url, public_url_error


def test_the_bound_address_is_the_default_base() -> None:
    assert default_public_url("127.0.0.1", 8181) == "http://127.0.0.1:8181"
    assert default_public_url("::1", 9000) == "http://[::1]:9000"
    assert default_public_url("api.example.net", 80) == "http://api.example.net:80"


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::", ""])
def test_a_wildcard_address_becomes_the_machine_name(wildcard: str) -> None:
    assert default_public_url(wildcard, 8181) == f"http://{socket.getfqdn()}:8181"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8181", "https://api.example.net/net",
                                 "http://[::1]:1"])
def test_good_public_urls(url: str) -> None:
    assert public_url_error(url) is None


@pytest.mark.parametrize("url", ["api.example.net", "ftp://h", "http://", "http://h/?a=1",
                                 "http://h/#x"])
def test_bad_public_urls_are_explained(url: str) -> None:
    assert f"wsapi_public_url {url!r}" in (public_url_error(url) or "")
