from __future__ import annotations

import pytest

from gateway.config import Config, parse_users
from gateway.request_id import next_traceparent

TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_continues_the_clients_trace_with_a_new_parent_id():
    outgoing = next_traceparent(f"00-{TRACE}-b7ad6b7169203331-00")
    version, trace_id, parent_id, flags = outgoing.split("-")
    assert (version, trace_id, flags) == ("00", TRACE, "00")
    assert parent_id != "b7ad6b7169203331"


@pytest.mark.parametrize("incoming", ["", "garbage", f"00-{'0' * 32}-b7ad6b7169203331-01"])
def test_starts_a_new_trace_for_a_missing_or_invalid_traceparent(incoming):
    assert next_traceparent(incoming) != next_traceparent(incoming)
    assert len(next_traceparent(incoming).split("-")[1]) == 32


def test_reads_demo_users_as_name_password_pairs():
    assert parse_users("alice:wonderland, bob:builder") == {"alice": "wonderland", "bob": "builder"}


def test_refuses_a_user_entry_without_password():
    with pytest.raises(ValueError, match="name:password"):
        parse_users("alice")


def test_environment_wins_over_defaults(monkeypatch):
    monkeypatch.setenv("PORT", "9090")
    monkeypatch.setenv("JWT_SECRET", "s" * 32)
    monkeypatch.setenv("GATEWAY_USERS", "carol:secret")
    config = Config.from_env()
    assert (config.port, config.jwt_secret, config.users) == (9090, "s" * 32, {"carol": "secret"})
