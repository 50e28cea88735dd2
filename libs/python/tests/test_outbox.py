import json

import pytest

from polyshop_common import db, outbox, tracing
from polyshop_common.events import new_event
from polyshop_common.kafka_io import PublishError

ORDER_ID = "0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10"


class FakeProducer:
    """Takes every event at once; the broker's answer comes with `wait()`."""

    def __init__(self, fail_on=()):
        self.sent = []
        self.handed = []
        self.fail_on = set(fail_on)

    def send_nowait(self, topic, event, traceparent=None):
        self.handed.append(event["data"]["n"])
        return FakePending(self, (topic, event["data"]["n"], traceparent))


class FakePending:
    def __init__(self, producer, message):
        self.producer = producer
        self.message = message

    def wait(self):
        if self.message[1] in self.producer.fail_on:
            raise PublishError("broker away")
        self.producer.sent.append(self.message)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "outbox.db"


@pytest.fixture
def conn(path):
    connection = db.connect(path)
    db.migrate(connection, outbox.OUTBOX_TABLES)
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
    assert [json.loads(r["event"])["data"]["n"] for r in outbox.unsent(conn)] == [1, 2]


def test_a_batch_is_handed_over_whole_before_the_first_ack_is_awaited(conn, path):
    for n in range(3):
        add(conn, n)
    producer = FakeProducer(fail_on={0})
    with pytest.raises(PublishError):
        outbox.OutboxRelay(path, producer).publish_pending(conn)
    assert producer.handed == [0, 1, 2]  # one round trip for the batch, not one per row
    assert len(outbox.unsent(conn)) == 3


def test_an_event_keeps_the_trace_context_it_was_stored_under(conn, path):
    with tracing.use("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"):
        add(conn, 0)
    producer = FakeProducer()
    outbox.OutboxRelay(path, producer).publish_pending(conn)
    assert producer.sent[0][2].startswith("00-0af7651916cd43dd8448eb211c80319c-")


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
