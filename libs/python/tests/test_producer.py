"""The producer against a real broker, set up as `make up` sets it up: a
record of 1 MiB, dead-lettered with its headers, still goes out, and a key
lands on the partition the Java client (and kafkajs) would choose."""

import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.partitioner.default import murmur2
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


def test_a_key_goes_to_the_partition_of_the_java_clients_murmur2(kafka_bootstrap, create_topics):
    [topic] = create_topics(f"test-{uuid.uuid4().hex[:8]}", partitions=6)
    keys = [str(uuid.UUID(int=n * 7919)) for n in range(30)]
    producer = Producer(kafka_bootstrap, "test")
    try:
        for key in keys:
            producer.send(topic, {"subject": key})
    finally:
        producer.close()

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, n) for n in range(6)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    landed: dict[bytes, int] = {}
    deadline = time.monotonic() + 20
    try:
        while len(landed) < len(keys) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                landed |= {record.key: record.partition for record in records}
    finally:
        consumer.close()
    # The Java client's rule: the positive murmur2 of the key, modulo the partitions.
    expected = {key.encode(): (murmur2(key.encode()) & 0x7FFFFFFF) % 6 for key in keys}
    assert landed == expected
    assert len(set(expected.values())) > 1  # the keys do spread
