"""Reads at one change index share one answer, for a second at most."""

from __future__ import annotations

from registry.answers import SharedAnswers


class Builds:
    """A `build` that counts its calls and shows the index it was asked for."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.calls = 0

    def __call__(self) -> tuple[int, bytes]:
        self.calls += 1
        return self.index, f"state at {self.index}, build {self.calls}".encode()


def test_reads_at_one_index_share_one_answer(clock):
    answers = SharedAnswers(clock=clock.monotonic)
    build = Builds(7)

    first = answers.answer(None, 7, build)
    clock.advance(0.9)
    second = answers.answer(None, 7, build)

    assert build.calls == 1
    assert second == first


def test_a_new_index_is_a_new_answer(clock):
    answers = SharedAnswers(clock=clock.monotonic)
    answers.answer(None, 7, Builds(7))

    fresh = answers.answer(None, 8, Builds(8))

    assert (fresh.index, fresh.body) == (8, b"state at 8, build 1")


def test_an_answer_older_than_its_age_is_built_again(clock):
    answers = SharedAnswers(max_age_seconds=1.0, clock=clock.monotonic)
    build = Builds(7)
    answers.answer(None, 7, build)

    clock.advance(1.0)
    again = answers.answer(None, 7, build)

    assert build.calls == 2
    assert again.body == b"state at 7, build 2"


def test_each_service_has_its_own_answer(clock):
    answers = SharedAnswers(clock=clock.monotonic)
    catalog, orders = Builds(7), Builds(7)

    answers.answer("catalog", 7, catalog)
    answers.answer("orders", 7, orders)
    answers.answer(None, 7, Builds(7))

    assert (catalog.calls, orders.calls) == (1, 1)
    assert answers.answer("catalog", 7, catalog).body == b"state at 7, build 1"
