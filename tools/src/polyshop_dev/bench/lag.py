"""Consumer lag of the shop's consumer groups: records on a topic that a
group has not yet committed, summed over the partitions it reads.

A group's topics are the ones it has committed offsets for; a partition of
such a topic without a commit yet counts from offset 0. Every topic has the
contract's number of partitions (contracts/topics.json), as
polyshop_dev.kafka creates them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec

from polyshop_dev.paths import CONTRACTS

GROUPS = ("inventory", "payments", "orders", "notifications")


@dataclass(frozen=True)
class Sample:
    at: float  # wall-clock time the sample was taken (after both answers came)
    lags: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.lags.values())


class LagProbe:
    def __init__(self, bootstrap: str, groups: tuple[str, ...] = GROUPS) -> None:
        self.groups = groups
        self._admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        self._partitions = json.loads((CONTRACTS / "topics.json").read_text())["partitions"]

    def close(self) -> None:
        self._admin.close()

    def sample(self) -> Sample:
        committed = self._admin.list_group_offsets(list(self.groups))
        read = {group: {tp.topic for tp in offsets} for group, offsets in committed.items()}
        wanted = {tp for topics in read.values() for tp in self._all_partitions(topics)}
        ends = self._admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in wanted})
        lags = {}
        for group in self.groups:
            offsets = committed.get(group, {})
            lags[group] = sum(
                ends[tp].offset - max(offsets[tp].offset if tp in offsets else 0, 0)
                for tp in self._all_partitions(read.get(group, set()))
            )
        return Sample(time.time(), lags)

    def _all_partitions(self, topics: set[str]) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t in sorted(topics) for p in range(self._partitions)]
