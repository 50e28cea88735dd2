"""Offsets go to the broker one commit at a time, at most one an interval
(kafka_io/commits.py).

A unit test of the one module: the consumer is a recorder of the calls
the module makes, so the test sees what is sent and when."""

from __future__ import annotations

import math

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from polyshop_common.kafka_io import commits as commits_module
from polyshop_common.kafka_io.commits import Commits

A, B = TopicPartition("orders", 0), TopicPartition("orders", 1)


class Recorder:
    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[tuple[dict[tuple[str, int], int], bool]] = []
        self.refuse = refuse

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.sent.append(({(o.topic, o.partition): o.offset for o in offsets}, asynchronous))
        if self.refuse:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))


def test_offsets_done_while_a_commit_is_on_its_way_wait_and_go_together():
    consumer, commits = Recorder(), Commits("orders", interval=0)
    commits.add(consumer, {A: 5})
    commits.add(consumer, {A: 6, B: 2})
    commits.add(consumer, {A: 7})
    assert consumer.sent == [({("orders", 0): 5}, True)]

    commits.answered(None, [])
    commits.send(consumer)
    assert consumer.sent[1:] == [({("orders", 0): 7, ("orders", 1): 2}, True)]


def test_nothing_is_sent_again_when_nothing_is_pending():
    consumer, commits = Recorder(), Commits("orders", interval=0)
    commits.add(consumer, {A: 5})
    commits.answered(None, [])
    commits.send(consumer)
    assert len(consumer.sent) == 1


def test_a_failed_commit_is_logged_and_the_next_one_goes(caplog):
    consumer, commits = Recorder(), Commits("orders", interval=0)
    commits.add(consumer, {A: 5})
    commits.answered(KafkaError(KafkaError.REBALANCE_IN_PROGRESS), [])
    commits.add(consumer, {A: 6})
    assert [sent for sent, _ in consumer.sent] == [{("orders", 0): 5}, {("orders", 0): 6}]
    assert "offset commit failed" in caplog.text


@pytest.mark.parametrize("refuse", [False, True])
def test_a_commit_the_client_refuses_leaves_none_on_its_way(refuse):
    consumer, commits = Recorder(refuse=refuse), Commits("orders", interval=0)
    commits.add(consumer, {A: 5})
    commits.add(consumer, {A: 6})
    assert len(consumer.sent) == (2 if refuse else 1)


def test_before_closing_what_is_pending_is_committed_and_waited_for():
    consumer, commits = Recorder(), Commits("orders", interval=0)
    commits.add(consumer, {A: 5})
    commits.add(consumer, {B: 3})
    commits.flush(consumer)
    assert consumer.sent[-1] == ({("orders", 1): 3}, False)
    commits.flush(consumer)
    assert len(consumer.sent) == 2


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_commit_starts_at_most_once_an_interval_with_what_is_pending_by_then(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(commits_module.time, "monotonic", clock)
    consumer, commits = Recorder(), Commits("orders", interval=0.5)
    commits.add(consumer, {A: 5})
    commits.answered(None, [])
    clock.now += 0.2
    commits.add(consumer, {A: 6})
    commits.add(consumer, {B: 2})
    assert len(consumer.sent) == 1
    assert commits.due_in() == pytest.approx(0.3)

    clock.now += 0.3
    commits.send(consumer)
    assert consumer.sent[1:] == [({("orders", 0): 6, ("orders", 1): 2}, True)]


def test_nothing_is_due_while_nothing_is_pending_or_an_answer_is_awaited():
    consumer, commits = Recorder(), Commits("orders", interval=0.5)
    assert commits.due_in() == math.inf
    commits.add(consumer, {A: 5})
    commits.add(consumer, {A: 6})
    assert commits.due_in() == math.inf  # in flight: its answer comes in a poll


def test_flush_does_not_wait_for_the_interval():
    consumer, commits = Recorder(), Commits("orders", interval=60)
    commits.add(consumer, {A: 5})
    commits.answered(None, [])
    commits.add(consumer, {A: 9})
    commits.flush(consumer)
    assert consumer.sent[-1] == ({("orders", 0): 9}, False)
