"""The consuming cases of contracts/conformance/ (dedupe, commit after the work,
poison, retry routing, expiry), run against this library's consumer loop and
a real broker; the Node.js library runs the same file
(libs/node/test/integration/conformance.test.js)."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from polyshop_common import db, telemetry
from polyshop_common.kafka_io import ConsumerLoop, Producer
from polyshop_common.testing import conformance_cases

DEADLINE_SECONDS = 40


class ScriptedFailure(Exception):
    """What the scripted handler throws: named alike in both languages."""


class ScriptedHandler:
    """Records the event's id in the handler's transaction, then fails as the case says."""

    def __init__(self, fails: dict[str, int | str]) -> None:
        self.fails = fails  # by event id
        self.calls: Counter[str] = Counter()

    def __call__(self, event: dict[str, Any], conn) -> None:
        self.calls[event["id"]] += 1
        conn.execute("INSERT INTO handled VALUES (?)", (event["id"],))
        failing = self.fails.get(event["id"], 0)
        if failing == "always" or self.calls[event["id"]] <= int(failing):
            raise ScriptedFailure(f"failure {self.calls[event['id']]}")


class Broker:
    """The case's topics, what is in them, and what a group committed."""

    def __init__(self, bootstrap: str, contracts) -> None:
        self.bootstrap = bootstrap
        self.topic = f"conformance-{uuid.uuid4().hex[:8]}"
        self.names = {
            "dlq": contracts.dead_letter_topic(self.topic),
            **{f"retry.{n}": contracts.retry_topic(self.topic, n) for n in (1, 2, 3)},
        }
        self._probe = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._admin = KafkaAdminClient(bootstrap_servers=bootstrap)

    def create(self, create_topics) -> None:
        create_topics(self.topic, *self.names.values())

    def name(self, relative: str | None) -> str:
        return self.names[relative] if relative else self.topic

    def end(self, topic: str) -> int:
        partition = TopicPartition(topic, 0)
        return self._probe.end_offsets([partition])[partition]

    def committed(self, group: str, topic: str) -> int:
        """The group's committed offset on the topic; 0 if none."""
        offsets = self._admin.list_group_offsets(group).get(group, {})
        found = offsets.get(TopicPartition(topic, 0))
        return found.offset if found is not None and found.offset >= 0 else 0

    def read(self, topic: str) -> list:
        """Every record of the topic, up to its end now."""
        partition, records = TopicPartition(topic, 0), []
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        try:
            consumer.assign([partition])
            consumer.seek_to_beginning(partition)
            end, deadline = self.end(topic), time.monotonic() + 20
            while consumer.position(partition) < end:
                assert time.monotonic() < deadline, f"cannot read {topic} to its end"
                records.extend(consumer.poll(timeout_ms=200).get(partition, []))  # waits for data
        finally:
            consumer.close()
        return records

    def close(self) -> None:
        self._probe.close()
        self._admin.close()


@pytest.fixture
def broker(kafka_bootstrap, contracts, create_topics):
    made = Broker(kafka_bootstrap, contracts)
    made.create(create_topics)
    yield made
    made.close()


@pytest.fixture
def db_path(tmp_path):
    """The consumer's database, with the table the scripted handler writes to."""
    path = tmp_path / "consumer.db"
    conn = db.connect(path)
    db.migrate(conn, [db.PROCESSED_EVENTS_TABLE, "CREATE TABLE handled (event_id TEXT)"])
    conn.close()
    return path


@pytest.fixture
def conn(db_path):
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def producer(kafka_bootstrap):
    """The loop's own producer, tracing as a service's does."""
    telemetry.start_tracing("conformance")
    made = Producer(kafka_bootstrap, "conformance")
    yield made
    made.close()


@pytest.fixture
def raw_producer(kafka_bootstrap):
    """Sends the case's records as they are, headers included."""
    made = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    yield made
    made.close()


def send_records(case, broker, producer, conformance, group: str) -> list[dict[str, Any]]:
    """Send the case's records; returns each as sent (key, value, headers, its
    event's id, label)."""
    sent: list[dict[str, Any]] = []
    for record in case["records"]:
        if "same_as" in record:
            sent.append(sent[record["same_as"]])
        else:
            sent.append(as_sent(record, conformance))
        headers = [
            (name, fill(value, broker.topic, group).encode())
            for name, value in record.get("headers", {}).items()
        ]
        topic = broker.name(record.get("topic"))
        producer.send(topic, key=sent[-1]["key"], value=sent[-1]["value"], headers=headers)
        sent[-1] = sent[-1] | {"headers": headers}
    producer.flush()
    return sent


def as_sent(record: dict[str, Any], conformance) -> dict[str, Any]:
    spec = record["value"]
    event = conformance.event(spec) if spec and "event" in spec else None
    key = record.get("key") or (event["subject"] if event else None)
    return {
        "key": key.encode() if key else None,
        "value": compact_json(event) if event else conformance.value(spec),
        "id": event["id"] if event else None,
        "label": record.get("as"),
    }


def compact_json(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def fill(text: str, topic: str, group: str) -> str:
    return text.replace("{topic}", topic).replace("{group}", group)


@pytest.mark.parametrize("case", conformance_cases("consuming"), ids=lambda case: case["name"])
def test_the_consumer_loop_does_what_the_case_expects(
    case,
    kafka_bootstrap,
    broker,
    producer,
    raw_producer,
    contracts,
    conformance,
    db_path,
    conn,
    wait_until,
):
    group = f"conformance-{uuid.uuid4().hex[:8]}"
    sent = send_records(case, broker, raw_producer, conformance, group)
    labels = {record["id"]: record["label"] for record in sent if record["id"]}
    ids = {label: event_id for event_id, label in labels.items()}
    handler = ScriptedHandler({ids[label]: n for label, n in case.get("fails", {}).items()})
    delays = case["retry_delays"]
    loop = ConsumerLoop(
        topics=[broker.topic],
        group_id=group,
        handlers=dict.fromkeys(case["handles"], handler),
        db_path=db_path,
        bootstrap=kafka_bootstrap,
        contracts=contracts,
        producer=producer,
        retry_delays=delays,
        poll_timeout_ms=100,
    )
    expect = case["expect"]
    read_topics = [broker.topic, *(broker.name(f"retry.{n}") for n in range(1, len(delays) + 1))]

    def handled() -> list[str]:
        rows = conn.execute("SELECT event_id FROM handled").fetchall()
        return sorted(labels[row[0]] for row in rows)

    def finished() -> bool:
        counts = {"dlq": len(expect["dead_letters"])} | {
            level: len(records) for level, records in expect["retries"].items()
        }
        return (
            handled() == sorted(expect["handled"])
            and all(broker.end(broker.name(level)) >= n for level, n in counts.items())
            and all(broker.committed(group, t) == broker.end(t) for t in read_topics)
        )

    loop.start()
    try:
        with contextlib.suppress(AssertionError):  # the checks below say what is missing
            wait_until(finished, DEADLINE_SECONDS)
    finally:
        loop.stop()
    assert handled() == sorted(expect["handled"])
    calls = {labels[event_id]: count for event_id, count in handler.calls.items()}
    assert calls == expect["calls"]
    check(case, broker, group, sent, read_topics)


def check(case, broker, group, sent, read_topics) -> None:
    """The dead letters, the retry copies and the commits, as the case expects them."""
    expect = case["expect"]
    dead = broker.read(broker.name("dlq"))
    assert_records(dead, expect["dead_letters"], sent, broker.topic, group, case, "dlq")
    for level in ("retry.1", "retry.2", "retry.3"):
        copies = broker.read(broker.name(level))
        expected = expect["retries"].get(level, [])
        assert_records(copies, expected, sent, broker.topic, group, case, level)
    for topic in read_topics:
        assert broker.committed(group, topic) == broker.end(topic), f"{topic} not committed"


def assert_records(records, expected, sent, topic, group, case, where) -> None:
    assert len(records) == len(expected), f"{where}: {len(records)} records, not {len(expected)}"
    for record, want in zip(records, expected, strict=True):
        original = sent[want["of"]]
        assert (record.key, record.value) == (original["key"], original["value"]), where
        headers = {name: value.decode() for name, value in record.headers or ()}
        if "reason" in want:
            assert headers["dlq-reason"].startswith(want["reason"]), headers["dlq-reason"]
        for name, value in want.get("headers", {}).items():
            if value == "{due}":
                assert_due(record, headers, case, where)
            elif value.startswith("{trace "):
                assert_own_span_of(value[len("{trace ") : -1], headers.get(name), original, where)
            else:
                assert headers.get(name) == fill(value, topic, group), (where, name, headers)
        for name in want.get("absent", []):
            assert name not in headers, (where, name, headers)


def assert_own_span_of(trace_id: str, traceparent: str | None, original, where: str) -> None:
    """A context in the record's trace, but not the record's own span."""
    assert traceparent is not None, where
    assert traceparent.split("-")[1] == trace_id, (where, traceparent)
    assert ("traceparent", traceparent.encode()) not in original["headers"], where


def assert_due(record, headers: dict[str, str], case, where: str) -> None:
    """A copy to retry level N is due the delay of level N after it was made."""
    delay_ms = round(case["retry_delays"][int(where.rpartition(".")[2]) - 1] * 1000)
    due = int(headers["retry-due"])
    assert record.timestamp + delay_ms - 1000 < due <= record.timestamp + delay_ms, headers
