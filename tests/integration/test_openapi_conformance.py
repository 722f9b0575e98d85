"""The served OpenAPI document is true: schemathesis, with all its checks, finds nothing.

``st run`` (the schemathesis CLI, pinned in the test extras) reads ``/midonet-api/openapi.json``
from a real API process on a real redis-server and sends a bounded number of generated
requests per operation, valid and invalid, in its coverage, fuzzing and stateful (OpenAPI
links) phases, with the session's admin token (and its password for ``POST /login``). Every
check runs: no 5xx, every status, header, content type and body as documented, invalid
requests refused, valid ones accepted.

What is configured, and why:

- ``positive_data_acceptance`` is replaced by ``positive_data_acceptance_beyond_schema`` (see
  ``openapi_checks``). Schemathesis itself takes 404 and 409 as answers to valid data (a path
  id naming no object, a name already taken), but not 400, which this API answers for an id
  in a body that names no object (a random UUID names none) and for rules across fields that
  JSON Schema cannot express. The document lists those fields per operation
  (``x-also-checked``); the replacement is the same check, except that a 400 whose violation
  names one of them passes.
- The operations that switch the whole API (``PUT /system_state`` to READONLY, ``PUT
  /write_version``) run on their own, after the rest: once the API is read-only every write
  answers 503 (documented, but it would leave the writes of the first run untested).
- The stateful phase follows the links the document declares, not links it would infer
  from field names (those fill path parameters with values outside their schemas).
- Hosts are registered by agents, never through the API: the test registers one as an agent
  would and names it as the ``{id}`` of the ``/hosts/{id}...`` operations.
- One worker and a fixed seed: see ``_st``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from tests.support import credentials

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 8
HOST_ID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "openapi-conformance.host"))


def _config(path: Path, api_url: str) -> Path:
    login = credentials.login_of(api_url)
    assert login is not None
    path.write_text(
        # HTTP Basic for POST /login, as its security says (the token goes in a header)
        "[auth.openapi.basic]\n"
        f'username = "{login.user}"\n'
        f'password = "{login.password}"\n'
        "\n"
        # The document declares its links; links schemathesis infers by itself fill path
        # parameters with values outside the parameters' schemas (a tenantId of "" makes
        # GET /tenants/, which is the list of tenants, not a tenant).
        "[phases.stateful.inference]\n"
        "algorithms = []\n"
        "\n"
        "[[operations]]\n"
        'include-path-regex = "^/hosts/\\\\{id\\\\}"\n'
        f'parameters = {{ "path.id" = "{HOST_ID}", "path.name" = "eth0" }}\n')
    return path


def _st(api_url: str, config: Path, report: Path,
        *selection: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).parent / "st"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.openapi_checks",
           "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [str(st), "--config-file", str(config), "run", f"{api_url}/openapi.json",
         "-H", f"X-Auth-Token: {credentials.token_of(api_url)}",
         "--checks", "all", "--exclude-checks", "positive_data_acceptance",
         # one worker: generating in two threads hits CPython 3.11's ast.parse race
         # ("AST constructor recursion depth mismatch", python/cpython#106905)
         "--max-examples", str(EXAMPLES_PER_OPERATION), "--workers", "1",
         "--seed", "9", "--no-shrink", "--no-color", "--generation-database", "none",
         "--report", "junit", "--report-junit-path", str(report), *selection],
        cwd=report.parent, env=env, capture_output=True, text=True, timeout=600)


def test_schemathesis_finds_no_failure(api_url: str, redis_url: str, tmp_path: Path) -> None:
    topo = Topology(Store.from_url(redis_url))
    topo.register_host(HOST_ID, "conformance", addresses=["192.0.2.10"], interfaces=[
        {"name": "eth0", "mac": "02:00:00:00:00:01", "addresses": ["192.0.2.10"]}])
    config = _config(tmp_path / "schemathesis.toml", api_url)
    switches = "^put_(system_state|write_version)$"
    runs = {"operations": ("--exclude-operation-id-regex", switches),
            # no stateful phase: nothing links to them
            "switches": ("--include-operation-id-regex", switches,
                         "--phases", "examples,coverage,fuzzing")}
    for name, selection in runs.items():
        done = _st(api_url, config, tmp_path / f"{name}.xml", *selection)
        assert done.returncode == 0, (
            f"schemathesis ({name}) found failures:\n{done.stdout}\n{done.stderr}")
        assert "Tested:" in done.stdout, done.stdout
