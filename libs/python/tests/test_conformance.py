"""The conformance cases of contracts/conformance/ that need no broker, run
against this library; the Node.js library runs the same files
(libs/node/test/unit/conformance.test.js), so both behave alike."""

from __future__ import annotations

import json

import pytest

from polyshop_common.events import InvalidEvent
from polyshop_common.registry.api import instances_path
from polyshop_common.testing import conformance_cases


@pytest.mark.parametrize(
    "case", conformance_cases("registry-paths"), ids=lambda case: repr(case["instance_id"])
)
def test_the_registry_client_encodes_each_name_as_one_path_segment(case):
    assert instances_path(case["service"], case["instance_id"]) == case["path"]


@pytest.mark.parametrize("case", conformance_cases("reading"), ids=lambda case: case["name"])
def test_a_record_is_read_as_a_valid_event_or_refused_with_its_reason(case, contracts, conformance):
    value = conformance.value(case["value"])
    if case.get("valid"):
        assert contracts.parse(value)["id"] == json.loads(value)["id"]
        return
    with pytest.raises(InvalidEvent) as refused:
        contracts.parse(value)
    assert refused.value.reason.startswith(case["reason"]), refused.value.reason
