"""The per-record rules of docs/saga.md, without a broker."""

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from polyshop_common import db
from polyshop_common.errors import TransientError
from polyshop_common.events import utc_now
from polyshop_common.kafka_io import Outcome, PublishError, RecordProcessor, encode


def example(contracts, name):
    return (contracts.directory / "events" / "examples" / name).read_bytes()


@pytest.fixture
def reserved(contracts):
    event = json.loads(example(contracts, "inventory.reserved.valid.json"))
    return event | {"time": utc_now()}  # the example's own time is long past its time to live


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
def retried():
    return []


@pytest.fixture
def processor_for(contracts, conn, dead_letters, retried):
    """A processor with these handlers, recording where failed records go."""

    def retry(record, reason):
        retried.append(reason)
        return Outcome.RETRY_SCHEDULED

    def build(handlers, **options):
        dead_letter = options.pop("dead_letter", lambda record, reason: dead_letters.append(reason))
        return RecordProcessor(
            contracts, handlers, conn, dead_letter, options.pop("retry", retry), **options
        )

    return build


def remember(event, c):
    c.execute("INSERT INTO seen VALUES (?)", (event["data"]["order_id"],))


@pytest.fixture
def processor(processor_for):
    return processor_for({"inventory.reserved": remember})


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
        (None, "empty message"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"type": "x.y"}', "unknown event type"),
        (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deep"),
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


def test_a_busy_database_rolls_back_and_moves_the_event_to_a_retry_topic(
    processor_for, conn, retried, make_record, reserved
):
    def busy(event, c):
        c.execute("INSERT INTO seen VALUES ('x')")
        raise sqlite3.OperationalError("database is locked")

    processor = processor_for({"inventory.reserved": busy})
    assert processor.process(make_record(encode(reserved))) is Outcome.RETRY_SCHEDULED
    assert retried == ["handler failed: OperationalError: database is locked"]
    assert seen(conn) == 0
    assert conn.execute("SELECT count(*) FROM processed_events").fetchone()[0] == 0


@pytest.mark.parametrize(
    "error", [KeyError("total"), TransientError("payments away")], ids=["bug", "transient"]
)
def test_a_failing_handler_moves_the_event_on_instead_of_blocking(
    processor_for, dead_letters, retried, make_record, reserved, error
):
    def fail(event, c):
        raise error

    processor = processor_for({"inventory.reserved": fail})
    assert processor.process(make_record(encode(reserved))) is Outcome.RETRY_SCHEDULED
    assert retried == [f"handler failed: {type(error).__name__}: {error}"]
    assert dead_letters == []


def test_when_the_retry_topic_is_unreachable_then_the_record_is_retried_in_place(
    processor_for, conn, make_record, reserved
):
    def bug(event, c):
        raise KeyError("total")

    def unreachable(record, reason):
        raise PublishError("broker away")

    processor = processor_for({"inventory.reserved": bug}, retry=unreachable)
    with pytest.raises(TransientError):
        processor.process(make_record(encode(reserved)))
    assert conn.execute("SELECT count(*) FROM processed_events").fetchone()[0] == 0


def test_when_the_dead_letter_topic_is_unreachable_then_the_record_is_retried(
    processor_for, make_record
):
    def unreachable(record, reason):
        raise PublishError("broker away")

    processor = processor_for({}, dead_letter=unreachable)
    with pytest.raises(TransientError):
        processor.process(make_record(b"{not json"))


def test_a_retried_copy_of_a_handled_event_is_a_duplicate(processor, conn, make_record, reserved):
    assert processor.process(make_record(encode(reserved))) is Outcome.HANDLED
    copy = make_record(encode(reserved), topic="inventory.retry.1")
    assert processor.process(copy) is Outcome.DUPLICATE
    assert seen(conn) == 1


@pytest.mark.parametrize(
    ("age", "outcome"),
    [(timedelta(seconds=599), Outcome.HANDLED), (timedelta(seconds=601), Outcome.DEAD_LETTERED)],
    ids=["fresh", "expired"],
)
def test_a_handled_event_older_than_its_time_to_live_is_dead_lettered_as_expired(
    processor_for, conn, dead_letters, make_record, reserved, age, outcome
):
    sent = datetime.fromisoformat(reserved["time"])
    processor = processor_for({"inventory.reserved": remember}, now=lambda: sent + age)
    assert processor.process(make_record(encode(reserved))) is outcome
    assert dead_letters == ([] if outcome is Outcome.HANDLED else ["expired"])
    assert seen(conn) == (outcome is Outcome.HANDLED)


def test_an_old_event_of_a_type_not_handled_is_skipped_not_expired(
    processor_for, contracts, dead_letters, make_record, reserved
):
    processor = processor_for({}, now=lambda: datetime.now(UTC) + timedelta(days=1))
    assert processor.process(make_record(encode(reserved))) is Outcome.SKIPPED
    assert dead_letters == []
