"""The per-record rules of docs/saga.md, without a broker."""

import json
import sqlite3

import pytest

from polyshop_common import db
from polyshop_common.errors import TransientError
from polyshop_common.kafka_io import Outcome, PublishError, RecordProcessor, encode


def example(contracts, name):
    return (contracts.directory / "events" / "examples" / name).read_bytes()


@pytest.fixture
def reserved(contracts):
    return json.loads(example(contracts, "inventory.reserved.valid.json"))


@pytest.fixture
def conn(tmp_path):
    connection = db.connect(tmp_path / "p.db")
    db.migrate(connection, [db.PROCESSED_EVENTS_TABLE, "CREATE TABLE seen (order_id TEXT)"])
    yield connection
    connection.close()


@pytest.fixture
def dead_letters():
    return []


@pytest.fixture
def processor(contracts, conn, dead_letters):
    def remember(event, c):
        c.execute("INSERT INTO seen VALUES (?)", (event["data"]["order_id"],))

    handlers = {"inventory.reserved": remember}
    return RecordProcessor(
        contracts, handlers, conn, lambda record, reason: dead_letters.append(reason)
    )


def seen(conn):
    return conn.execute("SELECT count(*) FROM seen").fetchone()[0]


def test_a_handled_event_runs_once_even_when_redelivered(processor, conn, make_record, reserved):
    record = make_record(encode(reserved))
    assert processor.process(record) is Outcome.HANDLED
    assert processor.process(record) is Outcome.DUPLICATE
    assert seen(conn) == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "not JSON"),
        (None, "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"type": "x.y"}', "unknown event type"),
        (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "unreadable: RecursionError"),
    ],
    ids=["not-json", "empty", "not-utf8", "unknown-type", "nested-too-deep"],
)
def test_what_cannot_be_parsed_or_validated_is_dead_lettered(
    processor, dead_letters, make_record, value, reason
):
    assert processor.process(make_record(value)) is Outcome.DEAD_LETTERED
    assert reason in dead_letters[0]


def test_an_event_breaking_its_schema_is_dead_lettered_and_not_handled(
    processor, conn, dead_letters, make_record, reserved
):
    reserved["data"]["items"] = []
    assert processor.process(make_record(encode(reserved))) is Outcome.DEAD_LETTERED
    assert "data/items" in dead_letters[0]
    assert seen(conn) == 0


def test_a_valid_event_of_a_type_not_handled_is_skipped(processor, contracts, make_record):
    released = example(contracts, "inventory.released.valid.json")
    assert processor.process(make_record(released)) is Outcome.SKIPPED


def test_a_transient_failure_rolls_back_and_leaves_the_event_to_retry(
    contracts, conn, make_record, reserved
):
    def busy(event, c):
        c.execute("INSERT INTO seen VALUES ('x')")
        raise sqlite3.OperationalError("database is locked")

    processor = RecordProcessor(contracts, {"inventory.reserved": busy}, conn, None)
    with pytest.raises(TransientError):
        processor.process(make_record(encode(reserved)))
    assert seen(conn) == 0
    assert conn.execute("SELECT count(*) FROM processed_events").fetchone()[0] == 0


def test_a_failing_handler_dead_letters_the_event_instead_of_blocking(
    contracts, conn, dead_letters, make_record, reserved
):
    def bug(event, c):
        raise KeyError("total")

    processor = RecordProcessor(
        contracts, {"inventory.reserved": bug}, conn, lambda r, reason: dead_letters.append(reason)
    )
    assert processor.process(make_record(encode(reserved))) is Outcome.DEAD_LETTERED
    assert "handler failed" in dead_letters[0]


def test_when_the_dead_letter_topic_is_unreachable_then_the_record_is_retried(
    contracts, conn, make_record
):
    def unreachable(record, reason):
        raise PublishError("broker away")

    processor = RecordProcessor(contracts, {}, conn, unreachable)
    with pytest.raises(TransientError):
        processor.process(make_record(b"{not json"))
