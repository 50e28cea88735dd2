"""Settings come from the environment, with defaults; bad values stop start-up."""

from __future__ import annotations

import ipaddress
import json

import pytest

from registry.config import ConfigError, Settings
from registry.models import Limits

from .tokens import credentials, credentials_document


@pytest.fixture
def env(credentials_file) -> dict[str, str]:
    """The least environment the registry starts with."""
    return {"REGISTRY_CREDENTIALS_FILE": str(credentials_file)}


def test_defaults_apply_when_only_the_credentials_file_is_set(env):
    settings = Settings.from_env(env)

    assert settings == Settings(credentials=credentials())
    assert (settings.host, settings.port, settings.lease_ttl_seconds) == ("127.0.0.1", 8761, 15)
    assert settings.limits == Limits(instances=20_000, instances_per_service=1_000, watchers=1_000)
    assert (settings.max_metadata_bytes, settings.max_connections) == (4096, 3000)
    assert (settings.idle_timeout_seconds, settings.allowed_networks) == (15, ())


def test_values_from_the_environment_win(env):
    settings = Settings.from_env(
        {
            **env,
            "HOST": "0.0.0.0",
            "PORT": "18761",
            "REGISTRY_ALLOWED_NETWORKS": "10.0.0.0/8, fd00::/8",
            "REGISTRY_LEASE_TTL_SECONDS": "3.0",
            "REGISTRY_EVICTION_INTERVAL_SECONDS": "0.1",
            "REGISTRY_MAX_WAIT_SECONDS": "30",
            "REGISTRY_MAX_INSTANCES": "500",
            "REGISTRY_MAX_INSTANCES_PER_SERVICE": "50",
            "REGISTRY_MAX_METADATA_BYTES": "1024",
            "REGISTRY_MAX_WATCHES": "100",
            "REGISTRY_MAX_CONNECTIONS": "200",
            "REGISTRY_IDLE_TIMEOUT_SECONDS": "5",
            "LOG_LEVEL": "debug",
            "POLYSHOP_MODE": "development",
        }
    )

    assert settings == Settings(
        host="0.0.0.0",
        port=18761,
        credentials=credentials(),
        allowed_networks=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")),
        lease_ttl_seconds=3.0,
        eviction_interval_seconds=0.1,
        max_wait_seconds=30.0,
        max_instances=500,
        max_instances_per_service=50,
        max_metadata_bytes=1024,
        max_watches=100,
        max_connections=200,
        idle_timeout_seconds=5,
        log_level="DEBUG",
        mode="development",
    )


def test_an_empty_value_keeps_the_default(env):
    assert Settings.from_env({**env, "PORT": "", "REGISTRY_MAX_WATCHES": ""}).port == 8761


@pytest.mark.parametrize(
    "environ",
    [{}, {"REGISTRY_CREDENTIALS_FILE": " "}, {"REGISTRY_TOKEN": "one-token-for-everybody"}],
    ids=["unset", "blank", "only_the_old_shared_token"],
)
def test_refuses_to_start_without_a_credentials_file(environ):
    with pytest.raises(ConfigError, match="REGISTRY_CREDENTIALS_FILE"):
        Settings.from_env(environ)


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
        ("REGISTRY_ALLOWED_NETWORKS", "10.0.0.1/8"),
        ("REGISTRY_ALLOWED_NETWORKS", "10.0.0.0/8,"),
        ("REGISTRY_ALLOWED_NETWORKS", "intranet"),
        ("REGISTRY_MAX_INSTANCES", "0"),
        ("REGISTRY_MAX_INSTANCES_PER_SERVICE", "many"),
        ("REGISTRY_MAX_METADATA_BYTES", "4k"),
        ("REGISTRY_MAX_WATCHES", "-1"),
        ("REGISTRY_MAX_CONNECTIONS", "1e4"),
        ("REGISTRY_IDLE_TIMEOUT_SECONDS", "1.5"),
        ("LOG_LEVEL", "LOUD"),
        ("POLYSHOP_MODE", "relaxed"),
    ],
)
def test_rejects_a_bad_value_naming_the_variable(env, name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**env, name: value})


def test_rejects_as_many_watches_as_connections(env):
    environ = {**env, "REGISTRY_MAX_WATCHES": "100", "REGISTRY_MAX_CONNECTIONS": "100"}

    with pytest.raises(ConfigError, match="REGISTRY_MAX_WATCHES"):
        Settings.from_env(environ)


def entry(**fields) -> dict[str, object]:
    return {**credentials_document()["credentials"][0], **fields}


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps([entry()]),
        json.dumps({"credentials": []}),
        json.dumps({"credentials": [entry(token_sha256="abc")]}),
        json.dumps({"credentials": [entry(token_sha256="z" * 64)]}),
        json.dumps({"credentials": [entry(services=[])]}),
        json.dumps({"credentials": [entry(services="catalog")]}),
        json.dumps({"credentials": [entry(services=["Not_A_Name"])]}),
        json.dumps({"credentials": [entry(name="")]}),
        json.dumps({"credentials": [entry(token="plain-text")]}),
        json.dumps({"credentials": [entry(), entry(token_sha256="0" * 64)]}),
        json.dumps({"credentials": [entry(), entry(name="again")]}),
    ],
    ids=[
        "not_json",
        "a_list",
        "no_credentials",
        "short_digest",
        "digest_not_hex",
        "no_services",
        "services_not_a_list",
        "bad_service_name",
        "empty_name",
        "unknown_field",
        "same_name_twice",
        "same_digest_twice",
    ],
)
def test_rejects_a_bad_credentials_file_naming_the_variable(tmp_path, content):
    path = tmp_path / "credentials.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ConfigError, match="REGISTRY_CREDENTIALS_FILE"):
        Settings.from_env({"REGISTRY_CREDENTIALS_FILE": str(path)})


def test_rejects_a_credentials_file_that_does_not_exist(tmp_path):
    missing = str(tmp_path / "nowhere.json")

    with pytest.raises(ConfigError, match=r"REGISTRY_CREDENTIALS_FILE.*cannot read"):
        Settings.from_env({"REGISTRY_CREDENTIALS_FILE": missing})
