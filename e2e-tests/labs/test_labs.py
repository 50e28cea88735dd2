"""Every lab's grader, twice against a real shop: on the untouched
repository it fails and names what is missing; with the lab's reference
solution applied it passes (docs/workshop.md)."""

from __future__ import annotations

import pytest

from polyshop_dev.labs.__main__ import all_labs, grade, lab_folder, load
from polyshop_dev.labs.where import ShopAddress
from support.labs import LabControl

LABS = [folder.name for folder in all_labs()]


@pytest.mark.parametrize("lab", LABS)
def test_the_grader_fails_untouched_and_passes_with_the_solution(shop, lab):
    number = lab[:2]
    address = ShopAddress.read(shop.folder / "shop.json")
    before = grade(number, address)
    assert not before.passed, before.report()
    assert all(e.hint for e in before.missing()), before.report()  # each says what to do

    control = LabControl(shop, address)
    try:
        load(lab_folder(number) / "solution" / "solve.py").solve(control)
        after = grade(number, address)
        assert after.passed, after.report()
    finally:
        control.undo()
