"""python-midonetclient 5.2.0, as published on PyPI, converted to Python 3 for the test session.

The package is Python 2 code. It is downloaded into a temporary directory at test time and
converted there with ``python3 -m lib2to3 -w -n``; nothing of it is kept in the repository.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CLIENT = "midonetclient==5.2.0"


@pytest.fixture(scope="session")
def midonetclient_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the converted ``midonetclient`` package and its ``midonet-cli``."""
    root = tmp_path_factory.mktemp("midonetclient")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "--dest", str(root), CLIENT], check=True)
    wheel = next(root.glob("midonetclient-5.2.0-*.whl"))
    src = root / "src"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(src)
    subprocess.run([sys.executable, "-W", "ignore", "-m", "lib2to3", "-w", "-n", str(src)],
                   check=True, capture_output=True)
    return src


@pytest.fixture(scope="session")
def midonetclient(midonetclient_dir: Path) -> Iterator[object]:
    """The converted ``midonetclient`` package, importable for the session."""
    sys.path.insert(0, str(midonetclient_dir))
    try:
        import midonetclient.api

        yield midonetclient
    finally:
        sys.path.remove(str(midonetclient_dir))
