"""Who may log in: user names with argon2id password hashes.

Passwords are never kept, only their hashes (argon2-cffi, the
recommendation of OWASP's password storage cheat sheet). An unknown name is
checked against a dummy hash, so the answer takes as long as for a known
one and timing does not tell which names exist.
"""

from __future__ import annotations

import json

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# The workshop's demo users; they exist only in development mode.
DEMO_USERS = {"alice": "wonderland", "bob": "builder"}

# OWASP's minimum for argon2id (19 MiB, 2 passes): a log-in costs a few
# milliseconds of one core, not the 64 MiB and 3 passes of the library's
# default, on a gateway that shares two cores with the whole shop.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_dummy: list[str] = []


class Users:
    def __init__(self, hashes: dict[str, str] | None = None) -> None:
        self._hashes = dict(hashes or {})

    @classmethod
    def from_json(cls, text: str) -> Users:
        """`{"users": [{"name": "carol", "password_hash": "$argon2id$..."}]}`."""
        return cls({user["name"]: user["password_hash"] for user in json.loads(text)["users"]})

    @classmethod
    def demo(cls) -> Users:
        return cls({name: hash_password(password) for name, password in DEMO_USERS.items()})

    def names(self) -> list[str]:
        return sorted(self._hashes)

    def check(self, name: str, password: str) -> bool:
        stored = self._hashes.get(name)
        try:
            return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(_hasher.hash("no user has this password"))
    return _dummy[0]
