"""The consumer loop against a real broker: handle once, dead-letter, commit."""

import json
import socket
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition

from polyshop_common import db
from polyshop_common.kafka_io import ConsumerLoop, Producer


@pytest.fixture
def topic(kafka_bootstrap):
    name = f"test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(name, 1, 1), NewTopic(name + ".dlq", 1, 1)])
    finally:
        admin.close()
    return name


@pytest.fixture
def producer(kafka_bootstrap):
    producer = Producer(kafka_bootstrap, "test")
    yield producer
    producer.close()


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "consumer.db"
    conn = db.connect(path)
    db.migrate(conn, [db.PROCESSED_EVENTS_TABLE, "CREATE TABLE seen (order_id TEXT)"])
    conn.close()
    return path


def remember(event, conn):
    conn.execute("INSERT INTO seen VALUES (?)", (event["data"]["order_id"],))


def read_all(bootstrap, topic, count, timeout=20):
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    records, deadline = [], time.monotonic() + timeout
    try:
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def test_when_events_arrive_then_each_is_handled_once_and_garbage_is_dead_lettered(
    kafka_bootstrap, topic, producer, db_path, contracts, wait_until
):
    event = json.loads(
        (contracts.directory / "events/examples/inventory.reserved.valid.json").read_text()
    )
    event["id"] = str(uuid.uuid4())
    producer.send(topic, event)
    producer.send(topic, event)  # a redelivery: same id
    producer.send_raw(topic, b"k", b"{not json", [])
    group = f"group-{uuid.uuid4().hex[:8]}"
    handled = []
    loop = ConsumerLoop(
        topics=[topic],
        group_id=group,
        handlers={"inventory.reserved": remember},
        db_path=db_path,
        bootstrap=kafka_bootstrap,
        contracts=contracts,
        producer=producer,
        on_handled=lambda: handled.append(True),  # what wakes the outbox relay
    )
    loop.start()
    try:
        dead = read_all(kafka_bootstrap, topic + ".dlq", 1)
        conn = db.connect(db_path)
        wait_until(lambda: conn.execute("SELECT count(*) FROM seen").fetchone()[0] == 1)
        assert loop.running
    finally:
        loop.stop()
    assert not loop.running
    assert (dead[0].key, dead[0].value) == (b"k", b"{not json")
    headers = dict(dead[0].headers)
    assert headers["dlq-topic"] == topic.encode()
    assert headers["dlq-offset"] == b"2"
    assert headers["dlq-group"] == group.encode()
    assert headers["dlq-reason"].startswith(b"not JSON")
    assert committed(kafka_bootstrap, group, topic) == 3
    assert handled == [True]  # the first delivery; not the duplicate, not the dead letter


def committed(bootstrap, group, topic):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    try:
        return consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close()


def test_when_the_broker_is_unreachable_then_the_loop_keeps_trying_and_stops_cleanly(
    tmp_path, contracts
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{sock.getsockname()[1]}"
    loop = ConsumerLoop(
        topics=["inventory"],
        group_id="nobody",
        handlers={},
        db_path=tmp_path / "x.db",
        bootstrap=nowhere,
        contracts=contracts,
        producer=Producer(nowhere, "test", timeout=1),
    )
    loop.start()
    assert not loop.running
    began = time.monotonic()
    loop.stop()
    assert time.monotonic() - began < 10
    assert not loop.running
