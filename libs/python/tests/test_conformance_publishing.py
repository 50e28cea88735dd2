"""The publishing cases of contracts/conformance/ (events into the outbox,
the relay's order and lease), run against this library on a real SQLite file;
the Node.js library runs the same file (libs/node/test/unit/conformance.test.js)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from polyshop_common import db, outbox, telemetry
from polyshop_common.events import InvalidEvent, find_contracts_dir, new_event
from polyshop_common.kafka_io import PublishError
from polyshop_common.testing import conformance_cases


def conformance_file(name: str) -> dict[str, Any]:
    folder = find_contracts_dir()
    assert folder is not None, "no contracts/ folder above the library"
    return json.loads((folder / "conformance" / f"{name}.json").read_text())


class RecordingProducer:
    """Takes what it is sent, keyed as the real one keys it, but refuses one
    event (by id) the first time; `taken` holds the ids the broker acknowledged."""

    def __init__(self, refuse_once: str | None = None) -> None:
        self.refuse_once = refuse_once
        self.taken: list[str] = []

    def send_nowait(self, topic: str, event: dict, parent=None):
        return Ack(self, event["id"])


class Ack:
    def __init__(self, producer: RecordingProducer, event_id: str) -> None:
        self.producer, self.event_id = producer, event_id

    def wait(self) -> None:
        if self.event_id == self.producer.refuse_once:
            self.producer.refuse_once = None
            raise PublishError("the broker refused it")
        self.producer.taken.append(self.event_id)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


@pytest.fixture
def conn(path: Path):
    connection = db.connect(path)
    db.migrate(connection, [outbox.OUTBOX_TABLES])
    yield connection
    connection.close()


def emitted(conformance, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's events as a service makes them: its own id and time (as Node's emitEvent)."""
    events = [conformance.event(spec) for spec in case["emit"]]
    return [new_event(e["type"], e["source"], e["subject"], e["data"]) for e in events]


def emit_all(conn, contracts, events: list[dict], traceparent: str | None) -> None:
    """Emit the events as one handler would: in one transaction, under one trace."""
    carrier = {"traceparent": traceparent} if traceparent else {}
    with telemetry.within(carrier), db.transaction(conn):
        for event in events:
            outbox.emit(conn, contracts, event)


def rows(conn, ids: list[str]) -> list[dict[str, Any]]:
    """The outbox, in order, as the case describes its rows (the shape Node.js reads too)."""
    found = []
    for row in conn.execute("SELECT topic, key, value, headers FROM outbox ORDER BY id"):
        described = {
            "event": ids.index(json.loads(row["value"])["id"]),
            "topic": row["topic"],
            "key": row["key"],
        }
        if traceparent := json.loads(row["headers"]).get("traceparent"):
            described["trace_id"] = traceparent.split("-")[1]
        found.append(described)
    return found


def test_the_outbox_table_has_the_columns_both_libraries_share(conn):
    columns = [row["name"] for row in conn.execute("PRAGMA table_info(outbox)")]
    assert columns == conformance_file("publishing")["outbox_columns"]


@pytest.mark.parametrize(
    "case",
    [case for case in conformance_cases("publishing") if "outbox" in case],
    ids=lambda case: case["name"],
)
def test_emitted_events_go_into_the_outbox_in_order_or_nothing_does(
    case, conn, contracts, conformance
):
    events = emitted(conformance, case)
    if "refused" in case:
        with pytest.raises(InvalidEvent) as refused:
            emit_all(conn, contracts, events, case.get("traceparent"))
        assert refused.value.reason.startswith(case["refused"]), refused.value.reason
    else:
        emit_all(conn, contracts, events, case.get("traceparent"))
    found = rows(conn, [event["id"] for event in events])
    assert found == case["outbox"]


@pytest.mark.parametrize(
    "case",
    [case for case in conformance_cases("publishing") if "relay" in case],
    ids=lambda case: case["name"],
)
def test_the_relay_publishes_in_order_one_relay_at_a_time(case, conn, path, contracts, conformance):
    events = emitted(conformance, case)
    emit_all(conn, contracts, events, None)
    ids = [event["id"] for event in events]
    if lease := case.get("lease"):
        with db.transaction(conn):
            conn.execute(
                "INSERT INTO outbox_lease (id, holder, expires_at) VALUES (1, ?, ?)",
                (lease["holder"], lease["expires_at_ms"]),
            )
    refused = case.get("refuse_once")
    producer = RecordingProducer(ids[refused] if refused is not None else None)
    now = {"ms": 0}
    relay = outbox.OutboxRelay(path, producer, clock=lambda: now["ms"] / 1000)
    for step in case["relay"]:
        now["ms"] = step["at_ms"]
        before = len(producer.taken)
        try:
            relay.publish_pending(conn)
            failed = False
        except PublishError:
            failed = True
        taken = [ids.index(event_id) for event_id in producer.taken[before:]]
        assert (taken, failed) == (step["published"], step.get("fails", False)), step
