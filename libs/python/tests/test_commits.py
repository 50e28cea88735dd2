"""Offsets go to the broker one commit at a time (kafka_io/commits.py).

A unit test of the one module: the consumer is a recorder of the calls
the module makes, so the test sees what is sent and when."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

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
    consumer, commits = Recorder(), Commits("orders")
    commits.add(consumer, {A: 5})
    commits.add(consumer, {A: 6, B: 2})
    commits.add(consumer, {A: 7})
    assert consumer.sent == [({("orders", 0): 5}, True)]

    commits.answered(None, [])
    commits.send(consumer)
    assert consumer.sent[1:] == [({("orders", 0): 7, ("orders", 1): 2}, True)]


def test_nothing_is_sent_again_when_nothing_is_pending():
    consumer, commits = Recorder(), Commits("orders")
    commits.add(consumer, {A: 5})
    commits.answered(None, [])
    commits.send(consumer)
    assert len(consumer.sent) == 1


def test_a_failed_commit_is_logged_and_the_next_one_goes(caplog):
    consumer, commits = Recorder(), Commits("orders")
    commits.add(consumer, {A: 5})
    commits.answered(KafkaError(KafkaError.REBALANCE_IN_PROGRESS), [])
    commits.add(consumer, {A: 6})
    assert [sent for sent, _ in consumer.sent] == [{("orders", 0): 5}, {("orders", 0): 6}]
    assert "offset commit failed" in caplog.text


@pytest.mark.parametrize("refuse", [False, True])
def test_a_commit_the_client_refuses_leaves_none_on_its_way(refuse):
    consumer, commits = Recorder(refuse=refuse), Commits("orders")
    commits.add(consumer, {A: 5})
    commits.add(consumer, {A: 6})
    assert len(consumer.sent) == (2 if refuse else 1)


def test_before_closing_what_is_pending_is_committed_and_waited_for():
    consumer, commits = Recorder(), Commits("orders")
    commits.add(consumer, {A: 5})
    commits.add(consumer, {B: 3})
    commits.flush(consumer)
    assert consumer.sent[-1] == ({("orders", 1): 3}, False)
    commits.flush(consumer)
    assert len(consumer.sent) == 2
