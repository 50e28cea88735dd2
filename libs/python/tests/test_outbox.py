import json
import os
import socket
import sqlite3
import time

import pytest
from opentelemetry import trace

from polyshop_common import db, outbox, telemetry
from polyshop_common.events import new_event
from polyshop_common.kafka_io import PublishError

ORDER_ID = "0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10"

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


class FakeProducer:
    """Takes every event at once; the broker's answer comes with `wait()`."""

    def __init__(self, fail_on=()):
        self.sent = []
        self.handed = []
        self.fail_on = set(fail_on)
        self.on_ack = lambda message: None

    def connect(self):
        pass  # always connected

    def send_nowait(self, topic, event, parent=None):
        self.handed.append(event["data"]["n"])
        return FakePending(self, (topic, event["data"]["n"], parent))


class FakePending:
    def __init__(self, producer, message):
        self.producer = producer
        self.message = message

    def wait(self):
        if self.message[1] in self.producer.fail_on:
            raise PublishError("broker away")
        self.producer.sent.append(self.message)
        self.producer.on_ack(self.message)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "outbox.db"


@pytest.fixture
def conn(path):
    connection = db.connect(path)
    db.migrate(connection, [outbox.OUTBOX_TABLES])
    yield connection
    connection.close()


def add(conn, n):
    with db.transaction(conn):
        outbox.enqueue(conn, "orders", new_event("order.test", "/orders", ORDER_ID, {"n": n}))


def test_the_relay_publishes_in_order_and_marks_rows_sent(conn, path):
    for n in range(3):
        add(conn, n)
    producer = FakeProducer()
    relay = outbox.OutboxRelay(path, producer)
    assert relay.publish_pending(conn) == 3
    assert [n for _, n, _ in producer.sent] == [0, 1, 2]
    assert outbox.unsent(conn) == []
    assert relay.publish_pending(conn) == 0


def test_when_the_broker_refuses_a_row_then_later_rows_wait_for_it(conn, path):
    for n in range(3):
        add(conn, n)
    producer = FakeProducer(fail_on={1})
    relay = outbox.OutboxRelay(path, producer)
    with pytest.raises(PublishError):
        relay.publish_pending(conn)
    assert [n for _, n, _ in producer.sent] == [0]
    assert [json.loads(r["value"])["data"]["n"] for r in outbox.unsent(conn)] == [1, 2]


def test_a_batch_is_handed_over_whole_before_the_first_ack_is_awaited(conn, path):
    for n in range(3):
        add(conn, n)
    producer = FakeProducer(fail_on={0})
    with pytest.raises(PublishError):
        outbox.OutboxRelay(path, producer).publish_pending(conn)
    assert producer.handed == [0, 1, 2]  # one round trip for the batch, not one per row
    assert len(outbox.unsent(conn)) == 3


def test_an_event_keeps_the_trace_context_it_was_stored_under(conn, path):
    with telemetry.within({"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}):
        add(conn, 0)
    producer = FakeProducer()
    outbox.OutboxRelay(path, producer).publish_pending(conn)
    parent = trace.get_current_span(producer.sent[0][2]).get_span_context()
    assert format(parent.trace_id, "032x") == TRACE_ID


def test_an_event_rolled_back_with_its_change_is_never_published(conn, path):
    with pytest.raises(RuntimeError), db.transaction(conn):
        outbox.enqueue(conn, "orders", new_event("order.test", "/orders", ORDER_ID, {"n": 9}))
        raise RuntimeError("the order could not be stored")
    assert outbox.unsent(conn) == []


def test_the_relay_thread_publishes_what_is_enqueued_and_stops(conn, path, wait_until):
    producer = FakeProducer()
    relay = outbox.OutboxRelay(path, producer, idle_seconds=0.05)
    relay.start()
    try:
        add(conn, 7)
        relay.wake()
        wait_until(lambda: producer.sent)
    finally:
        relay.stop()
    assert not relay.running


# The lease: one relay at a time per database file


class FakeClock:
    """Seconds since the epoch, moved by the test; counts how often it was read."""

    def __init__(self, now=1_700_000_000.0):
        self.now = now
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return self.now


def sent_numbers(producer):
    return [n for _, n, _ in producer.sent]


@pytest.fixture
def other_conn(path, conn):
    """A second connection to the same file, as another instance has."""
    connection = db.connect(path)
    yield connection
    connection.close()


def test_two_relays_on_one_database_publish_each_row_once_and_in_order(conn, path, wait_until):
    producers = [FakeProducer(), FakeProducer()]
    relays = [outbox.OutboxRelay(path, p, idle_seconds=0.01) for p in producers]
    for relay in relays:
        relay.start()
    try:
        for n in range(40):
            add(conn, n)
            for relay in relays:
                relay.wake()
        wait_until(lambda: outbox.unsent(conn) == [])
    finally:
        for relay in relays:
            relay.stop()
    published = [sent_numbers(p) for p in producers]
    assert sorted(published, key=len) == [[], list(range(40))]


def test_while_one_relay_publishes_a_pass_the_other_publishes_nothing(conn, other_conn, path):
    for n in range(3):
        add(conn, n)
    first, second = FakeProducer(), FakeProducer()
    relays = [outbox.OutboxRelay(path, p) for p in (first, second)]
    during = []
    # The second relay tries in the middle of the first one's pass, as it would from
    # another process: the rows are handed over but not yet marked sent.
    first.on_ack = lambda _message: during.append(relays[1].publish_pending(other_conn))
    assert relays[0].publish_pending(conn) == 3
    assert during == [0, 0, 0]
    assert (sent_numbers(first), sent_numbers(second)) == ([0, 1, 2], [])


def test_a_relay_holds_the_lease_while_it_publishes(conn, path):
    relay = outbox.OutboxRelay(path, FakeProducer())
    assert not relay.holds_lease
    relay.publish_pending(conn)
    assert relay.holds_lease
    assert outbox.lease_holder(conn) == relay.holder


def test_when_the_holder_stops_then_the_other_relay_takes_over_at_once(conn, path, wait_until):
    first, second = FakeProducer(), FakeProducer()
    # A lease far longer than the test: only its release can explain a takeover.
    holder = outbox.OutboxRelay(path, first, idle_seconds=0.01, lease_seconds=600)
    holder.start()
    waiting_clock = FakeClock(now=time.time())
    waiting = outbox.OutboxRelay(
        path, second, idle_seconds=0.01, lease_seconds=600, clock=waiting_clock
    )
    try:
        wait_until(lambda: holder.holds_lease)
        waiting.start()
        add(conn, 0)
        wait_until(lambda: first.sent and waiting_clock.reads >= 3)
        assert not waiting.holds_lease
        holder.stop()
        # Handed back, not left to expire (the other relay may have it already).
        assert outbox.lease_holder(conn) in (None, waiting.holder)
        add(conn, 1)
        waiting.wake()
        wait_until(lambda: second.sent)
        assert waiting.holds_lease
    finally:
        holder.stop()
        waiting.stop()
    assert (sent_numbers(first), sent_numbers(second)) == ([0], [1])


def test_when_the_holder_dies_then_another_relay_takes_over_once_the_lease_expires(
    conn, other_conn, path
):
    clock = FakeClock()
    dead = outbox.OutboxRelay(path, FakeProducer(), lease_seconds=5, clock=clock)
    dead.publish_pending(other_conn)  # takes the lease, then never renews it again
    producer = FakeProducer()
    survivor = outbox.OutboxRelay(path, producer, lease_seconds=5, clock=clock)
    add(conn, 0)
    clock.now += 4.9
    assert survivor.publish_pending(conn) == 0
    assert not survivor.holds_lease
    clock.now += 0.2
    assert survivor.publish_pending(conn) == 1
    assert survivor.holds_lease
    assert outbox.lease_holder(conn) == survivor.holder


def test_a_relay_that_lost_its_lease_mid_pass_marks_nothing_and_stops(conn, other_conn, path):
    for n in range(3):
        add(conn, n)
    clock = FakeClock()
    producer = FakeProducer()
    relay = outbox.OutboxRelay(path, producer, lease_seconds=5, clock=clock)

    def taken_over_while_publishing(_message):
        # The pass stalled past the lease; another relay found it expired.
        outbox.take_lease(other_conn, "other-host/2/0", round((clock.now + 6) * 1000), 5000)
        producer.on_ack = lambda _message: None

    producer.on_ack = taken_over_while_publishing
    assert relay.publish_pending(conn) == 0
    assert not relay.holds_lease
    assert len(outbox.unsent(conn)) == 3  # the new holder publishes them again
    assert sent_numbers(producer) == [0, 1, 2]


def test_holder_ids_name_the_process_and_differ_between_relays(path):
    first, second = (outbox.OutboxRelay(path, FakeProducer()) for _ in range(2))
    assert first.holder != second.holder
    assert first.holder.split("/")[:2] == [socket.gethostname(), str(os.getpid())]


def seq_outbox(path):
    """An outbox of the shape Python services first made, with rows 1 (sent), 2 and 3."""
    conn = db.connect(path)
    for statement in outbox.SEQ_OUTBOX_TABLES:  # as every start ran them, user_version 0
        conn.execute(statement)
    for n, traceparent, sent_at in [(1, None, "2026-01-01T00:00:00Z"), (2, TRACEPARENT, None)]:
        event = new_event("order.test", "/orders", ORDER_ID, {"n": n})
        conn.execute(
            "INSERT INTO outbox (topic, event_id, event, traceparent, created_at, sent_at)"
            " VALUES ('orders', ?, ?, ?, '2026-01-01T00:00:00Z', ?)",
            (event["id"], json.dumps(event), traceparent, sent_at),
        )
    other = new_event("order.test", "/orders", "other-order", {"n": 3})
    conn.execute(
        "INSERT INTO outbox (topic, event_id, event, created_at) VALUES ('orders', ?, ?, ?)",
        (other["id"], json.dumps(other), "2026-01-01T00:00:01Z"),
    )
    return conn


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_an_outbox_of_the_seq_shape_moves_to_the_shared_one_unsent_rows_in_order(tmp_path):
    path = tmp_path / "old.db"
    conn = seq_outbox(path)
    db.migrate(conn, [outbox.SEQ_OUTBOX_TABLES, outbox.MOVE_SEQ_OUTBOX])
    columns = [row["name"] for row in conn.execute("PRAGMA table_info(outbox)")]
    assert columns == ["id", "topic", "key", "value", "headers", "created_at", "sent_at"]
    assert [
        (row["id"], row["key"], json.loads(row["value"])["data"]["n"], json.loads(row["headers"]))
        for row in outbox.unsent(conn)
    ] == [(2, ORDER_ID, 2, {"traceparent": TRACEPARENT}), (3, "other-order", 3, {})]
    add(conn, 4)  # numbered after the moved rows, so it waits for them
    producer = FakeProducer()
    assert outbox.OutboxRelay(path, producer).publish_pending(conn) == 3
    assert [(topic, n) for topic, n, _ in producer.sent] == [
        ("orders", 2),
        ("orders", 3),
        ("orders", 4),
    ]
    parents = [trace.get_current_span(parent).get_span_context() for _, _, parent in producer.sent]
    assert format(parents[0].trace_id, "032x") == TRACE_ID  # the moved row keeps its trace
    assert not parents[1].is_valid and not parents[2].is_valid


def test_when_the_move_fails_the_seq_outbox_stays_as_it_was(tmp_path):
    conn = seq_outbox(tmp_path / "old.db")
    conn.execute("CREATE TABLE outbox_shared (x INTEGER)")  # the move's new name is taken
    with pytest.raises(sqlite3.OperationalError):
        db.migrate(conn, [outbox.SEQ_OUTBOX_TABLES, outbox.MOVE_SEQ_OUTBOX])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM outbox WHERE seq > 0").fetchone()[0] == 3
