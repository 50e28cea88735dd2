"""Settings come from the environment, with defaults; bad values stop start-up."""

from __future__ import annotations

import pytest

from registry.config import ConfigError, Settings


def test_defaults_apply_when_nothing_is_set():
    settings = Settings.from_env({})

    assert settings == Settings()
    assert (settings.host, settings.port, settings.lease_ttl_seconds) == ("127.0.0.1", 8761, 15)
    assert settings.uses_default_token


def test_values_from_the_environment_win():
    settings = Settings.from_env(
        {
            "HOST": "0.0.0.0",
            "PORT": "18761",
            "REGISTRY_TOKEN": "s3cret",
            "REGISTRY_LEASE_TTL_SECONDS": "3.0",
            "REGISTRY_EVICTION_INTERVAL_SECONDS": "0.1",
            "REGISTRY_MAX_WAIT_SECONDS": "30",
            "LOG_LEVEL": "debug",
        }
    )

    assert settings == Settings(
        host="0.0.0.0",
        port=18761,
        token="s3cret",
        lease_ttl_seconds=3.0,
        eviction_interval_seconds=0.1,
        max_wait_seconds=30.0,
        log_level="DEBUG",
    )
    assert not settings.uses_default_token


def test_an_empty_value_keeps_the_default():
    assert Settings.from_env({"PORT": "", "REGISTRY_TOKEN": ""}) == Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "70000"),
        ("PORT", "0"),
        ("HOST", "local host"),
        ("REGISTRY_LEASE_TTL_SECONDS", "fifteen"),
        ("REGISTRY_LEASE_TTL_SECONDS", "0"),
        ("REGISTRY_EVICTION_INTERVAL_SECONDS", "-1"),
        ("REGISTRY_MAX_WAIT_SECONDS", "inf"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_rejects_a_bad_value_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
