"""contracts/conformance/faults.json against this library and flagd's
in-process provider reading a real file; the Node.js library runs the same
cases (libs/node/test/unit/faults.test.js). And a change to the file
reaches a running piece."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from polyshop_common import faults
from polyshop_common.testing import conformance_cases

CASES = conformance_cases("faults")


def write(path: Path, flags: dict) -> None:
    partial = path.with_name("partial.json")
    partial.write_text(json.dumps({"flags": flags}))
    partial.replace(path)


@pytest.fixture
def flag_file(tmp_path):
    yield tmp_path / "flags.json"
    faults.stop()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["name"])
def test_a_piece_finds_on_what_the_file_turns_on_for_it(flag_file, case):
    write(flag_file, case["flags"])
    assert faults.watch(case["service"], case["instance"], str(flag_file))
    assert faults.wait_read(10)
    assert faults.active() == case["on"]
    assert all(faults.on(name) for name in case["on"])


def test_a_change_to_the_file_reaches_the_piece_and_its_listeners(flag_file):
    on_everywhere = CASES[1]["flags"]
    write(flag_file, {})
    seen: list[dict] = []
    forget = faults.on_change(seen.append)
    assert faults.watch("catalog", "127.0.0.1:5001", str(flag_file))
    assert faults.wait_read(10)
    assert not faults.on(faults.SLOW)
    write(flag_file, on_everywhere)
    deadline = time.monotonic() + 10
    while not faults.on(faults.SLOW) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert faults.value(faults.SLOW) == 6000
    assert seen[-1] == {"slow": 6000}
    forget()


def test_without_a_file_every_switch_stays_off(monkeypatch):
    monkeypatch.delenv("FAULTS_FILE", raising=False)
    assert not faults.watch("catalog", "127.0.0.1:5001")
    assert faults.active() == {}


def test_every_switch_of_the_contract_has_a_name_in_the_library():
    names = {value for key, value in vars(faults).items() if key.isupper() and type(value) is str}
    assert set(faults.switches()) <= names
