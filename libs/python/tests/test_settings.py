import socket

import pytest

from polyshop_common.settings import ConfigError, EnvReader, ServiceSettings


def shared(environ: dict[str, str]) -> dict:
    return ServiceSettings.common_from_env(EnvReader(environ), default_port=5001)


def test_by_default_an_instance_listens_on_and_advertises_loopback():
    values = shared({})
    assert (values["host"], values["advertised_host"]) == ("127.0.0.1", "127.0.0.1")


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::"])
def test_listening_on_every_interface_advertises_the_host_name(wildcard):
    assert shared({"HOST": wildcard})["advertised_host"] == socket.gethostname()


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
