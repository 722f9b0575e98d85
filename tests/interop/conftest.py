"""python-midonetclient 5.2.0, as published on PyPI, converted to Python 3 for the test session.

The package is Python 2 code. It is downloaded into a temporary directory at test time and
converted there with ``python3 -m lib2to3 -w -n``; nothing of it is kept in the repository.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import credentials

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
    script = src / "midonetclient-5.2.0.data" / "scripts" / "midonet-cli"
    # lib2to3 converts *.py files of a directory; the script has no suffix, so name it too
    subprocess.run([sys.executable, "-W", "ignore", "-m", "lib2to3", "-w", "-n", str(src),
                    str(script)], check=True, capture_output=True)
    return src


@pytest.fixture(scope="session")
def midonetclient(midonetclient_dir: Path) -> Iterator[object]:
    """The converted ``midonetclient`` package, importable for the session."""
    sys.path.insert(0, str(midonetclient_dir))
    try:
        import midonetclient.api
        import midonetclient.auth_lib

        midonetclient.auth_lib.base64 = _StrBase64  # see SHIM
        yield midonetclient
    finally:
        sys.path.remove(str(midonetclient_dir))


class _StrBase64:
    """``base64`` as the client's login (``auth_lib.Auth.login``) uses it under Python 2:
    ``b64encode(user + ':' + password)`` takes and returns ``str``."""

    @staticmethod
    def b64encode(text: str) -> str:
        return base64.b64encode(text.encode()).decode()


# Three Python 3 incompatibilities of the converted client that no server can mend, patched
# from outside the client: inspect.getargspec is gone in 3.11; webob's HTTP errors built from
# httplib2's bytes bodies cannot be printed; and the login encodes ``user:password`` with
# ``base64.b64encode(str)``, which takes only bytes in Python 3 (2to3 leaves it alone), then
# prepends ``'Basic '`` to the bytes it returns. Loaded through PYTHONPATH as sitecustomize.
SHIM = """\
import base64
import midonetclient.auth_lib
class _StrBase64:
    @staticmethod
    def b64encode(text):
        return base64.b64encode(text.encode()).decode()
midonetclient.auth_lib.base64 = _StrBase64
import inspect
if not hasattr(inspect, "getargspec"):
    inspect.getargspec = inspect.getfullargspec
import webob.exc
def _text(self):
    detail = self.detail or self.explanation
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else (detail or "")
webob.exc.WSGIHTTPException.__str__ = _text
"""


@pytest.fixture(scope="session")
def midonet_cli_script(midonetclient_dir: Path, tmp_path_factory: pytest.TempPathFactory
                       ) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs the client's own midonet-cli: ``run(api_url, "list bridge")``."""
    shim = tmp_path_factory.mktemp("shim")
    (shim / "sitecustomize.py").write_text(SHIM)
    home = tmp_path_factory.mktemp("home")
    script = midonetclient_dir / "midonetclient-5.2.0.data" / "scripts" / "midonet-cli"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIDO_")}
    env.update(HOME=str(home), PYTHONPATH=f"{shim}:{midonetclient_dir}")

    def run(api_url: str, command: str, login: tuple[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        # logs in with the username, password and project_id of ~/.midonetrc: the tests'
        # own user of that API, or ``login``
        credentials.write_midonetrc(home, api_url, login)
        return subprocess.run([sys.executable, str(script), "--midonet-url", api_url,
                               "-e", "--", command],
                              env=env, capture_output=True, text=True, timeout=60)

    return run


@pytest.fixture
def api(midonetclient: Any, api_url: str) -> Any:
    """The 5.2.0 client's ``MidonetApi``, logged in as the API's administrator."""
    login = credentials.login_of(api_url)
    assert login is not None
    return midonetclient.api.MidonetApi(api_url, login.user, login.password, "admin")
