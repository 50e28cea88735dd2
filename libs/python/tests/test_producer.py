"""The producer against a real broker, set up as `make up` sets it up: a
record of 1 MiB, dead-lettered with its headers, still goes out."""

import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition

from polyshop_common.kafka_io import Producer

MIB = 1024 * 1024


def new_topic(bootstrap: str) -> str:
    name = f"test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        admin.close()
    return name


def read_first(bootstrap: str, topic: str, timeout: float = 20):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                return records[0]
        raise AssertionError(f"nothing to read on {topic} within {timeout} s")
    finally:
        consumer.close()


def test_the_dead_letter_of_a_record_of_one_mib_is_published(kafka_bootstrap):
    topic = new_topic(kafka_bootstrap)
    value = b"x" * MIB
    headers = [
        ("dlq-reason", b"order.created: /data: too large"),
        ("dlq-topic", b"orders"),
        ("dlq-partition", b"2"),
        ("dlq-offset", b"1234"),
        ("dlq-group", b"inventory"),
    ]
    producer = Producer(kafka_bootstrap, "test")
    try:
        producer.send_raw(topic, b"key", value, headers)
    finally:
        producer.close()

    record = read_first(kafka_bootstrap, topic)
    # Less the trace context, which is the publish's own span's where tracing is set up.
    kept = [header for header in record.headers if header[0] not in ("traceparent", "tracestate")]
    assert (record.key, record.value, kept) == (b"key", value, headers)
