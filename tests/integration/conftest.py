"""Fixtures of the midonet-cli tests: the installed console script and a way to seed the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_guide_helpers import Cli, Seed


@pytest.fixture
def cli(api_url: str, tmp_path: Path) -> Cli:
    """midonet-cli against the API, with a home directory of its own."""
    home = tmp_path / "home"
    home.mkdir()
    return Cli(api_url, home)


@pytest.fixture
def seed(api_url: str, redis_url: str) -> Seed:
    return Seed(api_url, redis_url)
