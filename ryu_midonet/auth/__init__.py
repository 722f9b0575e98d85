"""Users, passwords and tokens of the REST API, kept in the topology store's Redis.

- :mod:`.passwords`  scrypt hashes with a per-user salt, checked in constant time
- :mod:`.users`      ``{prefix}:auth:user:<name>``: role and password hash of each user
- :mod:`.tokens`     ``{prefix}:auth:token:<sha256 of the token>``: who a token belongs to,
                     expiring with the token, so every API process accepts it

Roles: ``admin`` reads and writes (system state included); ``readonly`` may only read.
Nothing here loads os-ken, so commands and tests can manage users on their own.
"""

from __future__ import annotations

from ryu_midonet.auth.store import Auth
from ryu_midonet.auth.tokens import Identity, Token
from ryu_midonet.auth.users import ADMIN, READONLY, ROLES, UserError, may

__all__ = ["ADMIN", "READONLY", "ROLES", "Auth", "Identity", "Token", "UserError", "may"]
