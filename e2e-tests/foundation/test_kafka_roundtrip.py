"""The real broker with the Python client: produce, consume in a group,
commit, and resume from the committed offset."""

from __future__ import annotations

import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from polyshop_dev import kafka as local_kafka

GROUP_SETTINGS = {
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    # A short session keeps the group's first join quick on a one-node broker.
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
}


def consume_one(bootstrap: str, topic: str, group: str, timeout: float = 30) -> list[bytes]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, **GROUP_SETTINGS)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = consumer.poll(timeout_ms=500)
            values = [record.value for records in batches.values() for record in records]
            if values:
                consumer.commit()
                return values
        raise AssertionError(f"nothing consumed from {topic} within {timeout} s")
    finally:
        consumer.close()


def test_when_a_group_commits_then_a_new_member_resumes_after_the_commit(kafka_bootstrap):
    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        producer.send(topic, b"first").get(timeout=10)
        assert consume_one(kafka_bootstrap, topic, "roundtrip") == [b"first"]
        producer.send(topic, b"second").get(timeout=10)
        assert consume_one(kafka_bootstrap, topic, "roundtrip") == [b"second"]
    finally:
        producer.close()


def test_the_contract_topics_with_their_dead_letter_and_retry_topics_exist_with_three_partitions(
    kafka_bootstrap,
):
    local_kafka.ensure_topics(kafka_bootstrap)  # idempotent: a second call changes nothing
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        described = {t["name"]: t for t in admin.describe_topics(local_kafka.topic_names())}
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, "dead-letters.redriven")]
        )
    finally:
        admin.close()
    saga = ("orders", "inventory", "payments", "notifications")
    ends = ("", ".dlq", ".retry.1", ".retry.2", ".retry.3")
    assert set(described) == {t + end for t in saga for end in ends} | {"dead-letters.redriven"}
    assert all(len(t["partitions"]) == 3 for t in described.values())
    redrives = configs["topic"]["dead-letters.redriven"]
    assert redrives["cleanup.policy"]["value"] == "compact"
