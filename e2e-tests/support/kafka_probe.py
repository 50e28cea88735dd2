"""Looking into the broker the way an operator would: read a topic from
the beginning, send raw bytes, see how far a consumer group has committed."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from polyshop_common.kafka_io.producer import MAX_REQUEST_BYTES
from polyshop_dev.labs.shopping import records as every_record


def find_record(bootstrap: str, topic: str, match, timeout: float = 20):
    """The first record of `topic` for which `match(record)` holds, waiting
    for it up to `timeout`. Read with partitions assigned, not as a consumer
    group: joining a group adds a coordinator round and a rebalance, which on
    a busy machine took longer than the whole wait."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                for record in batch:
                    if match(record):
                        return record
        raise AssertionError(f"no matching record on {topic} within {timeout} s")
    finally:
        consumer.close()


def send_raw(bootstrap: str, topic: str, key: bytes, value: bytes, headers=None):
    """Send bytes as they are, up to the broker's limit; returns the record's
    (partition, offset)."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=MAX_REQUEST_BYTES
    )
    try:
        meta = producer.send(topic, key=key, value=value, headers=headers or []).get(timeout=10)
        return meta.partition, meta.offset
    finally:
        producer.close()


def committed_offsets(bootstrap: str, groups: Iterable[str]) -> dict[tuple[str, str, int], int]:
    """How far each group has committed, by (group, topic, partition)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {
            (group, tp.topic, tp.partition): found.offset
            for group in groups
            for tp, found in admin.list_group_offsets(group).get(group, {}).items()
        }
    finally:
        admin.close()


def committed(bootstrap: str, group: str, topic: str, partition: int) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    found = offsets.get(TopicPartition(topic, partition))
    return found.offset if found else -1


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The offset the next record of each partition of `topic` will get."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {tp.partition: end for tp, end in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def records(bootstrap: str, topic: str, match=lambda record: True, timeout: float = 20) -> list:
    """Every record of `topic` for which `match(record)` holds, from the
    beginning up to the end as it is now; read without a consumer group."""
    return [record for record in every_record(bootstrap, topic, timeout) if match(record)]
