"""The consumer loop against a real broker: handle once, dead-letter, commit,
move failures along the retry topics, expire what is too old."""

import json
import socket
import time
import uuid

import pytest
from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from prometheus_client import REGISTRY

from polyshop_common import db
from polyshop_common.events import utc_now
from polyshop_common.kafka_io import ConsumerLoop, Producer, encode


@pytest.fixture
def topic(create_topics, contracts):
    """A topic of one partition, with its dead-letter and retry topics."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    create_topics(name, contracts.dead_letter_topic(name), *contracts.retry_topics([name]))
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
    event |= {"id": str(uuid.uuid4()), "time": utc_now()}
    producer.send(topic, event)
    producer.send(topic, event)  # a redelivery: same id
    producer.send_raw(topic, b"k", b"{not json", [])
    group = new_group()
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
        # Its metrics: the lag on the one partition falls to 0 once all is read.
        lag = {
            "messaging_destination_name": topic,
            "messaging_consumer_group_name": group,
            "messaging_destination_partition_id": "0",
        }
        wait_until(lambda: sample("polyshop_consumer_lag_records", lag) == 0)
    finally:
        loop.stop()
    assert not loop.running
    labels = {"messaging_destination_name": topic, "messaging_consumer_group_name": group}
    timed = "messaging_process_duration_seconds_count"
    assert [
        sample(timed, labels | {"outcome": outcome})
        for outcome in ("handled", "duplicate", "dead-lettered")
    ] == [1, 1, 1]
    assert sample("polyshop_dead_letters_total", labels) == 1
    assert (dead[0].key, dead[0].value) == (b"k", b"{not json")
    headers = dict(dead[0].headers)
    assert headers["dlq-topic"] == topic.encode()
    assert headers["dlq-offset"] == b"2"
    assert headers["dlq-group"] == group.encode()
    assert headers["dlq-reason"].startswith(b"not JSON")
    assert committed(kafka_bootstrap, group, topic) == 3
    assert handled == [True]  # the first delivery; not the duplicate, not the dead letter


def sample(name, labels):
    return REGISTRY.get_sample_value(name, labels)


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


def new_group():
    return f"group-{uuid.uuid4().hex[:8]}"


def reserved(contracts, **changes):
    """A fresh inventory.reserved event of its own order."""
    event = json.loads(
        (contracts.directory / "events/examples/inventory.reserved.valid.json").read_text()
    )
    order_id = str(uuid.uuid4())
    event |= {"id": str(uuid.uuid4()), "subject": order_id, "time": utc_now()}
    event["data"]["order_id"] = order_id
    return event | changes


class Handled:
    """A handler that records what it handled and when; it fails an event as
    often as `failures` says (forever with -1)."""

    def __init__(self, failures=None):
        self.failures = failures or {}
        self.ids, self.at = [], {}

    def __call__(self, event, conn):
        left = self.failures.get(event["id"], 0)
        if left:
            self.failures[event["id"]] = left - 1
            raise RuntimeError("payments away")
        self.ids.append(event["id"])
        self.at[event["id"]] = time.time()


@pytest.fixture
def start_loop(kafka_bootstrap, topic, producer, db_path, contracts):
    """Start a consumer loop of a new group on `topic`; stopped after the test."""
    loops = []

    def start(handler, delays, group=None):
        loop = ConsumerLoop(
            topics=[topic],
            group_id=group or new_group(),
            handlers={"inventory.reserved": handler},
            db_path=db_path,
            bootstrap=kafka_bootstrap,
            contracts=contracts,
            producer=producer,
            retry_delays=delays,
            poll_timeout_ms=100,
        )
        loops.append(loop)
        loop.start()
        return loop

    yield start
    for loop in loops:
        loop.stop()


def headers_of(record):
    return {name: value.decode() for name, value in record.headers}


def test_when_a_handler_fails_twice_then_its_event_is_retried_and_its_partition_moves_on(
    kafka_bootstrap, topic, producer, contracts, start_loop, wait_until
):
    flaky, steady = reserved(contracts), reserved(contracts)
    handler = Handled(failures={flaky["id"]: 2})
    loop = start_loop(handler, delays=(0.2, 0.4, 0.6))
    producer.send(topic, flaky)
    producer.send(topic, steady)

    wait_until(lambda: len(handler.ids) == 2, timeout=30)
    assert handler.ids == [steady["id"], flaky["id"]]  # the event behind it was not held
    [first] = read_all(kafka_bootstrap, f"{topic}.retry.1", 1)
    [second] = read_all(kafka_bootstrap, f"{topic}.retry.2", 1)
    reason = "handler failed: RuntimeError: payments away"
    assert (first.key, first.value) == (flaky["subject"].encode(), encode(flaky))
    assert headers_of(first) | {
        "retry-group": loop.group_id,
        "attempt": "2",
        "attempt-1-reason": reason,
        "original-topic": topic,
        "original-partition": "0",
        "original-offset": "0",
    } == headers_of(first)
    assert headers_of(second)["attempt"] == "3"
    assert headers_of(second)["attempt-2-reason"] == reason
    assert headers_of(second)["original-offset"] == "0"
    # due 0.4 s after the copy was made, which is just before it was written
    assert second.timestamp + 200 <= int(headers_of(second)["retry-due"]) <= second.timestamp + 400
    wait_until(lambda: committed(kafka_bootstrap, loop.group_id, f"{topic}.retry.2") == 1)
    assert committed(kafka_bootstrap, loop.group_id, topic) == 2


def test_when_a_handler_always_fails_then_its_event_is_dead_lettered_with_every_reason(
    kafka_bootstrap, topic, producer, contracts, start_loop
):
    doomed = reserved(contracts)
    handler = Handled(failures={doomed["id"]: -1})
    loop = start_loop(handler, delays=(0.1, 0.1, 0.1))
    producer.send(topic, doomed)

    [dead] = read_all(kafka_bootstrap, f"{topic}.dlq", 1, timeout=30)
    headers = headers_of(dead)
    reason = "handler failed: RuntimeError: payments away"
    assert (dead.key, dead.value) == (doomed["subject"].encode(), encode(doomed))
    assert headers["dlq-reason"] == f"gave up after 4 attempts: {reason}"
    assert [headers[f"attempt-{n}-reason"] for n in (1, 2, 3, 4)] == [reason] * 4
    assert (headers["dlq-topic"], headers["dlq-partition"], headers["dlq-offset"]) == (
        topic,
        "0",
        "0",
    )
    assert headers["dlq-group"] == loop.group_id
    assert handler.ids == []


def test_when_retries_are_off_then_a_failed_event_is_dead_lettered_at_once(
    kafka_bootstrap, topic, producer, contracts, start_loop
):
    doomed = reserved(contracts)
    start_loop(Handled(failures={doomed["id"]: -1}), delays=())
    producer.send(topic, doomed)

    [dead] = read_all(kafka_bootstrap, f"{topic}.dlq", 1)
    assert headers_of(dead)["dlq-reason"] == "handler failed: RuntimeError: payments away"
    assert "attempt" not in headers_of(dead)


def test_when_an_event_is_older_than_its_time_to_live_then_it_is_dead_lettered_unhandled(
    kafka_bootstrap, topic, producer, contracts, start_loop, wait_until
):
    stale = reserved(contracts, time="2020-01-01T00:00:00.000Z")
    handler = Handled()
    loop = start_loop(handler, delays=(0.1,))
    producer.send(topic, stale)

    [dead] = read_all(kafka_bootstrap, f"{topic}.dlq", 1)
    assert headers_of(dead)["dlq-reason"] == "expired"
    wait_until(lambda: committed(kafka_bootstrap, loop.group_id, topic) == 1)
    assert handler.ids == []


def send_retry(producer, topic, event, group, due_ms):
    """A copy of `event` on its first retry topic, as a consumer of `group` leaves it."""
    headers = [
        ("retry-group", group.encode()),
        ("attempt", b"2"),
        ("retry-due", str(due_ms).encode()),
        ("attempt-1-reason", b"handler failed"),
    ]
    producer.send_raw(f"{topic}.retry.1", event["subject"].encode(), encode(event), headers)


def test_when_a_retry_record_belongs_to_another_group_then_it_is_skipped(
    kafka_bootstrap, topic, producer, contracts, start_loop, wait_until
):
    theirs, ours = reserved(contracts), reserved(contracts)
    group = new_group()
    send_retry(producer, topic, theirs, "another-group", due_ms=0)
    send_retry(producer, topic, ours, group, due_ms=0)
    handler = Handled()
    start_loop(handler, delays=(0.1,), group=group)

    wait_until(lambda: committed(kafka_bootstrap, group, f"{topic}.retry.1") == 2, timeout=20)
    assert handler.ids == [ours["id"]]


def test_when_a_retry_record_is_not_due_then_it_waits_while_other_records_flow(
    kafka_bootstrap, topic, producer, contracts, start_loop, wait_until
):
    warm_up, later, meanwhile = (reserved(contracts) for _ in range(3))
    handler = Handled()
    loop = start_loop(handler, delays=(10,))
    producer.send(topic, warm_up)
    wait_until(lambda: handler.ids == [warm_up["id"]], timeout=20)  # the group has joined

    due = time.time() + 2
    send_retry(producer, topic, later, loop.group_id, due_ms=int(due * 1000))
    producer.send(topic, meanwhile)

    wait_until(lambda: len(handler.ids) == 3, timeout=20)
    assert handler.ids == [warm_up["id"], meanwhile["id"], later["id"]]
    assert handler.at[meanwhile["id"]] < due <= handler.at[later["id"]]


def test_when_a_retry_record_is_due_far_in_the_future_then_it_waits_only_its_levels_delay(
    kafka_bootstrap, topic, producer, contracts, start_loop, wait_until
):
    parked = reserved(contracts)
    handler = Handled()
    loop = start_loop(handler, delays=(1,))
    sent = time.time()
    send_retry(producer, topic, parked, loop.group_id, due_ms=int((sent + 3600) * 1000))

    wait_until(lambda: handler.ids == [parked["id"]], timeout=20)
    assert handler.at[parked["id"]] >= sent + 1 - 0.01  # the copy's timestamp + its delay
