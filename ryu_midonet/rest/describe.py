"""Print the API's OpenAPI document to standard output (``make openapi``)."""

from __future__ import annotations

import sys

from ryu_midonet.rest.api import Api
from ryu_midonet.rest.openapi import render


def main() -> None:
    sys.stdout.write(render(Api.routes_only()))
