"""Who logs in to a sandbox's REST API: the user ``admin``, created when the sandbox comes up.

Its password is random and kept in ``<run_dir>/api/admin.password`` (mode 0600); next to it,
``<run_dir>/api/midonetrc`` is a ``~/.midonetrc`` for midonet-cli (``HOME`` pointed at a copy,
or the file copied to ``~/.midonetrc``). The user is created again, with the same password, when
a store is started empty.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ryu_midonet.auth import ADMIN, Auth

USER = "admin"
PASSWORD_FILE = "admin.password"
MIDONETRC = "midonetrc"


@dataclass(frozen=True)
class Credentials:
    """The sandbox's admin user, and where its password and midonetrc are."""

    user: str
    password: str
    password_file: Path
    midonetrc: Path

    def token(self, api_url: str) -> str:
        """A new token from ``POST <api_url>/login``."""
        basic = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        req = urllib.request.Request(f"{api_url.rstrip('/')}/login", data=b"", method="POST",
                                     headers={"Authorization": f"Basic {basic}"})
        with urllib.request.urlopen(req, timeout=15) as resp:
            return str(json.loads(resp.read())["key"])


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)


def create(run_dir: Path, redis_url: str, api_url: str | None) -> Credentials:
    """A new admin user with a random password in the sandbox's store, and its files."""
    api = run_dir / "api"
    password = secrets.token_urlsafe(16)
    users = Auth.from_url(redis_url).users
    if users.get(USER) is None:
        users.add(USER, ADMIN, password)
    else:
        users.set_password(USER, password)
    _write_private(api / PASSWORD_FILE, password + "\n")
    rc = f"[cli]\nusername = {USER}\npassword = {password}\nproject_id = admin\n"
    if api_url:
        rc = f"[cli]\napi_url = {api_url}\n" + rc.removeprefix("[cli]\n")
    _write_private(api / MIDONETRC, rc)
    found = read(run_dir)
    assert found is not None
    return found


def read(run_dir: Path) -> Credentials | None:
    """The admin credentials of the sandbox in ``run_dir`` (``None`` before ``up``)."""
    api = run_dir / "api"
    try:
        password = (api / PASSWORD_FILE).read_text(encoding="utf-8").rstrip("\n")
    except FileNotFoundError:
        return None
    return Credentials(USER, password, api / PASSWORD_FILE, api / MIDONETRC)


def restore(run_dir: Path, redis_url: str) -> None:
    """The admin user again, with its password, in a store that lost it."""
    creds = read(run_dir)
    if creds is None:
        return
    users = Auth.from_url(redis_url).users
    if users.get(USER) is None:
        users.add(USER, ADMIN, creds.password)

