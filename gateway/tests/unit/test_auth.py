from __future__ import annotations

import pytest

from gateway.auth import LoginLimiter
from gateway.users import Users, hash_password


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limiter():
    clock = Clock()
    limiter = LoginLimiter(per_user=3, per_address=5, window_seconds=60, clock=clock)
    limiter.clock_ = clock
    return limiter


def test_a_user_name_is_held_after_its_limit_of_failures_until_the_window_passes(limiter):
    for _ in range(3):
        assert limiter.retry_after("bob", "10.0.0.1") == 0
        limiter.failed("bob", "10.0.0.1")
    assert limiter.retry_after("bob", "10.0.0.2") == 61
    assert limiter.retry_after("alice", "10.0.0.2") == 0
    limiter.clock_.now += 60
    assert limiter.retry_after("bob", "10.0.0.2") == 0


def test_an_address_is_held_after_failures_across_user_names(limiter):
    for n in range(5):
        limiter.failed(f"guess-{n}", "10.0.0.1")
    assert limiter.retry_after("anyone", "10.0.0.1") > 0
    assert limiter.retry_after("anyone", "10.0.0.9") == 0


def test_users_keep_hashes_and_check_passwords():
    users = Users({"carol": hash_password("correct horse")})
    assert users.check("carol", "correct horse")
    assert not users.check("carol", "wrong")
    assert not users.check("dave", "correct horse")
    assert not Users({"eve": "not-a-hash"}).check("eve", "not-a-hash")
