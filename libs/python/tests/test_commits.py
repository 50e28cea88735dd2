"""Offsets committed at intervals (kafka_io/commits.py), against a stand-in
consumer: the loop's use of them against a real broker is in
test_consumer_loop.py."""

from __future__ import annotations

import logging

from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata, TopicPartition

from polyshop_common.kafka_io.commits import Commits

A, B = TopicPartition("inventory", 0), TopicPartition("inventory", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Consumer:
    def __init__(self, assigned=(A, B), fails: bool = False) -> None:
        self.assigned = set(assigned)
        self.fails = fails
        self.commits: list[dict] = []

    def assignment(self):
        return set(self.assigned)

    def commit(self, offsets):
        if self.fails:
            raise CommitFailedError("the group rebalanced")
        self.commits.append(dict(offsets))


def at(offset: int) -> OffsetAndMetadata:
    return OffsetAndMetadata(offset, "", -1)


def test_offsets_done_within_the_interval_go_in_one_commit_of_the_last_of_each_partition():
    clock, consumer = Clock(), Consumer()
    commits = Commits(every=0.2, clock=clock)
    commits.done(A, 4)
    commits.done(A, 5)
    commits.done(B, 9)
    clock.now += 0.15
    commits.commit_if_due(consumer)
    assert consumer.commits == []
    clock.now += 0.1
    commits.commit_if_due(consumer)
    assert consumer.commits == [{A: at(6), B: at(10)}]
    commits.commit_if_due(consumer)  # nothing pending: no round trip
    assert len(consumer.commits) == 1


def test_the_poll_wakes_when_a_commit_falls_due_and_not_before_there_is_one():
    clock = Clock()
    commits = Commits(every=0.2, clock=clock)
    assert commits.wait_ms(500) == 500
    commits.done(A, 1)
    clock.now += 0.05
    assert commits.wait_ms(500) == 150
    assert commits.wait_ms(100) == 100
    clock.now += 1
    assert commits.wait_ms(500) == 50  # never a poll too short to finish a rejoin
    assert commits.wait_ms(10) == 10


def test_an_offset_of_a_partition_no_longer_assigned_is_dropped_not_committed():
    clock, consumer = Clock(), Consumer(assigned=(B,))
    commits = Commits(every=0.2, clock=clock)
    commits.done(A, 4)
    commits.done(B, 2)
    commits.commit(consumer)
    assert consumer.commits == [{B: at(3)}]
    commits.commit(consumer)
    assert len(consumer.commits) == 1


def test_a_refused_commit_is_logged_and_tried_again_for_the_partitions_still_assigned(caplog):
    clock, consumer = Clock(), Consumer(fails=True)
    commits = Commits(every=0.2, clock=clock)
    commits.done(A, 4)
    commits.done(B, 7)
    with caplog.at_level(logging.WARNING):
        assert not commits.commit(consumer)
    assert "offset commit failed" in caplog.text
    assert commits.pending
    assert commits.wait_ms(500) == 200
    consumer.fails, consumer.assigned = False, {B}
    commits.done(B, 8)
    assert commits.commit(consumer)
    assert consumer.commits == [{B: at(9)}]
    assert not commits.pending
