"""The fault-switch CLI (`make fault`) writes flags that the pieces'
library, reading the same file with flagd's provider, finds as meant."""

from __future__ import annotations

import pytest

from polyshop_common import faults as library
from polyshop_common.testing import conformance_file
from polyshop_dev import faults


@pytest.fixture
def flag_file(tmp_path, monkeypatch):
    path = tmp_path / "flags.json"
    monkeypatch.setenv("FAULTS_FILE", str(path))
    yield faults.reset(path)
    library.stop()


def seen_by(path, service: str, instance: str = "127.0.0.1:1") -> dict:
    library.stop()
    assert library.watch(service, instance, str(path))
    assert library.wait_read(10)
    return library.active()


def test_after_a_reset_every_switch_is_off(flag_file):
    assert seen_by(flag_file, "catalog") == {}
    assert all("off" in line for line in faults.describe(flag_file))


def test_a_switch_aimed_at_a_service_is_on_there_only(flag_file):
    assert faults.main(["on", "slow", "--service", "catalog"]) == 0
    assert seen_by(flag_file, "catalog") == {"slow": 6000}
    assert seen_by(flag_file, "orders") == {}
    assert "ON in catalog" in "\n".join(faults.describe(flag_file))


def test_a_switch_aimed_at_an_instance_is_on_there_only(flag_file):
    faults.turn_on(flag_file, "pause-consumer", instances=["127.0.0.1:3001"])
    assert seen_by(flag_file, "inventory", "127.0.0.1:3001") == {"pause-consumer": True}
    assert seen_by(flag_file, "inventory", "127.0.0.1:3011") == {}


def test_a_switch_on_everywhere_then_off_again(flag_file):
    faults.turn_on(flag_file, "decline-payments")
    assert seen_by(flag_file, "payments") == {"decline-payments": True}
    assert faults.main(["off", "decline-payments"]) == 0
    assert seen_by(flag_file, "payments") == {}


def test_an_unknown_switch_or_a_service_it_does_nothing_in_is_refused(flag_file):
    with pytest.raises(SystemExit, match="no fault switch is called 'sloow'"):
        faults.turn_on(flag_file, "sloow")
    with pytest.raises(SystemExit, match="malformed-price does nothing in orders"):
        faults.turn_on(flag_file, "malformed-price", ["orders"])


@pytest.mark.parametrize(
    "case", conformance_file("faults")["writing"], ids=lambda case: case["name"]
)
def test_the_flag_written_is_the_one_both_languages_write(case):
    switch = library.switches()[case["switch"]]
    assert faults.flag(switch, on=case["on"], services=case["services"]) == case["flag"]
