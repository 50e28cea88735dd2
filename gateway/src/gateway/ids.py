"""Ids for correlation, in a module of their own: the gunicorn master
imports them (worker.py) without the app's libraries."""

from __future__ import annotations

import random


def random_hex(bits: int) -> str:
    """Unique enough for correlation, and no system call per id (unlike
    `uuid4` or `secrets`): ids are not secrets. `random` is reseeded in each
    forked worker, so workers do not repeat each other's ids."""
    return f"{random.getrandbits(bits):0{bits // 4}x}"
