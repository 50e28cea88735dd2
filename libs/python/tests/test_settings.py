import socket

import pytest

from polyshop_common.settings import EnvReader, ServiceSettings


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
