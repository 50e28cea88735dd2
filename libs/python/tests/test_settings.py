import socket

import pytest

from polyshop_common.settings import DEVELOPMENT_ISSUER, ConfigError, EnvReader, ServiceSettings
from polyshop_common.testing import DEVELOPMENT_ENV

LONG_SECRET = "s" * 32


def shared(environ: dict[str, str], base: dict[str, str] = DEVELOPMENT_ENV) -> dict:
    return ServiceSettings.common_from_env(EnvReader(base | environ), default_port=5001)


PRODUCTION_ENV = {"REGISTRY_TOKEN": LONG_SECRET, "AUTH_ISSUER": "http://gateway:8080"}


def test_production_is_the_default_mode_and_needs_every_secret_set():
    assert shared({}, PRODUCTION_ENV)["mode"] == "production"
    for missing in PRODUCTION_ENV:
        environ = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
        with pytest.raises(ConfigError, match=missing):
            shared({}, environ)


def test_outside_development_a_short_secret_is_refused_without_echoing_it():
    with pytest.raises(ConfigError, match="REGISTRY_TOKEN is shorter than 32 bytes") as caught:
        shared({"REGISTRY_TOKEN": "polyshop-dev-token"}, PRODUCTION_ENV)
    assert "polyshop-dev-token" not in str(caught.value)


def test_development_mode_allows_a_short_secret_and_a_default_issuer():
    values = shared({})
    assert (values["mode"], values["auth_issuer"]) == ("development", DEVELOPMENT_ISSUER)
    assert values["registry_token"] == DEVELOPMENT_ENV["REGISTRY_TOKEN"]


def test_a_secret_comes_from_the_file_its_FILE_variable_names(tmp_path):
    path = tmp_path / "token"
    path.write_text(LONG_SECRET + "\n")
    environ = {"REGISTRY_TOKEN": "", "REGISTRY_TOKEN_FILE": str(path)}
    assert shared(environ, PRODUCTION_ENV)["registry_token"] == LONG_SECRET


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"REGISTRY_TOKEN_FILE": "/nonexistent/token"}, "not both"),
        ({"REGISTRY_TOKEN": "", "REGISTRY_TOKEN_FILE": "/nonexistent/t"}, "REGISTRY_TOKEN_FILE"),
        ({"POLYSHOP_MODE": "demo"}, "POLYSHOP_MODE"),
    ],
)
def test_bad_secret_settings_stop_start_up(environ, message):
    with pytest.raises(ConfigError, match=message):
        shared(environ, PRODUCTION_ENV)


def test_by_default_an_instance_listens_on_and_advertises_loopback():
    values = shared({})
    assert (values["host"], values["advertised_host"]) == ("127.0.0.1", "127.0.0.1")


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::"])
def test_listening_on_every_interface_advertises_the_host_name(wildcard):
    assert shared({"HOST": wildcard})["advertised_host"] == socket.gethostname()


def test_several_registries_are_given_separated_by_commas_each_one_checked():
    both = shared({"REGISTRY_URL": "http://registry-0:8761/, http://registry-1:8761"})
    assert both["registry_url"] == "http://registry-0:8761,http://registry-1:8761"
    with pytest.raises(ConfigError, match="REGISTRY_URL"):
        shared({"REGISTRY_URL": "http://registry-0:8761,registry-1:8761"})


def test_an_advertised_host_in_the_environment_wins():
    values = shared({"HOST": "0.0.0.0", "ADVERTISED_HOST": "orders-2"})
    assert values["advertised_host"] == "orders-2"


def test_consumers_retry_after_1_10_and_60_seconds_by_default():
    assert shared({})["consumer_retry_delays"] == (1, 10, 60)


@pytest.mark.parametrize(
    ("raw", "delays"),
    [("0.2, 0.4,0.6", (0.2, 0.4, 0.6)), ("5", (5,)), ("none", ()), ("NONE", ())],
)
def test_consumer_retry_delays_are_seconds_separated_by_commas_or_none(raw, delays):
    assert shared({"CONSUMER_RETRY_DELAYS": raw})["consumer_retry_delays"] == delays


@pytest.mark.parametrize("raw", ["1,x", "1,,2", "0", "-1", "1,inf", "1,10,60,600"])
def test_bad_or_too_many_retry_delays_stop_start_up_naming_the_variable(raw):
    with pytest.raises(ConfigError, match="CONSUMER_RETRY_DELAYS"):
        shared({"CONSUMER_RETRY_DELAYS": raw})
