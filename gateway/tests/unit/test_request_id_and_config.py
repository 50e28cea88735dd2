from __future__ import annotations

import json

import pytest

from gateway.config import Config
from gateway.users import hash_password
from polyshop_common.settings import ConfigError
from polyshop_common.signing import SigningKey


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "signing-key.pem"
    path.write_bytes(SigningKey.generate().pem())
    return path


def test_outside_development_there_are_no_demo_users(key_file):
    config = Config.from_env({"JWT_SIGNING_KEY_FILE": str(key_file), "AUTH_ISSUER": "http://gw"})
    assert config.mode == "production"
    assert config.users.names() == []


def test_development_mode_has_the_demo_users_stored_hashed(key_file):
    config = Config.from_env(
        {"JWT_SIGNING_KEY_FILE": str(key_file), "POLYSHOP_MODE": "development"}
    )
    assert config.users.names() == ["alice", "bob"]
    assert config.users.check("alice", "wonderland")
    assert not config.users.check("alice", "builder")
    assert "wonderland" not in repr(vars(config.users))


def test_users_come_from_a_file_of_argon2_hashes(key_file, tmp_path):
    users = tmp_path / "users.json"
    users.write_text(
        json.dumps({"users": [{"name": "carol", "password_hash": hash_password("c")}]})
    )
    environ = {
        "JWT_SIGNING_KEY_FILE": str(key_file),
        "AUTH_ISSUER": "http://gw",
        "GATEWAY_USERS_FILE": str(users),
        "PORT": "9090",
    }
    config = Config.from_env(environ)
    assert (config.port, config.users.names()) == (9090, ["carol"])
    assert config.users.check("carol", "c")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"POLYSHOP_MODE": "development"}, "JWT_SIGNING_KEY_FILE"),
        ({"JWT_SIGNING_KEY_FILE": "KEY"}, "AUTH_ISSUER"),
        ({"JWT_SIGNING_KEY_FILE": "/nonexistent.pem", "AUTH_ISSUER": "http://gw"}, "JWT_SIG"),
        (
            {
                "JWT_SIGNING_KEY_FILE": "KEY",
                "AUTH_ISSUER": "http://gw",
                "JWT_TTL_SECONDS": "94608000",
            },
            "JWT_TTL_SECONDS",
        ),
    ],
)
def test_no_key_no_issuer_or_a_long_token_lifetime_stop_start_up(key_file, environ, message):
    environ = {k: str(key_file) if v == "KEY" else v for k, v in environ.items()}
    with pytest.raises(ConfigError, match=message):
        Config.from_env(environ)
