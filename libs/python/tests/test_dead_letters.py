"""Dead letters against a real broker: list, get, redrive once, redrive again."""

import json
import socket
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from polyshop_common.kafka_io.dead_letters import (
    AlreadyRedriven,
    BadLetterId,
    DeadLetterError,
    DeadLetters,
    KafkaUnavailable,
    LetterId,
    UnknownDeadLetter,
)

VALUE = b'{"id": "e-1", "type": "order.created"}'


@pytest.fixture
def topic(create_topics):
    """A fresh topic with its dead-letter twin and a second topic to redrive to
    (the broker of the tests has the contract's redrive topic)."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    create_topics(name, name + ".dlq", name + ".other", partitions=2)
    return name


@pytest.fixture
def letters(kafka_bootstrap, contracts):
    with DeadLetters.from_contracts(kafka_bootstrap, contracts.directory) as found:
        yield found


@pytest.fixture
def dead_letter(kafka_bootstrap, topic):
    """Publish a dead letter of `topic` as a consumer gives up on one; its id."""
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")

    def publish(value=VALUE, key=b"order-1", partition=1, extra=(), at=None):
        headers = [
            ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("attempt-1-reason", b"handler failed: TimeoutError()"),
            ("dlq-reason", b"gave up after 2 attempts: handler failed: TimeoutError()"),
            ("dlq-topic", topic.encode()),
            ("dlq-partition", b"0"),
            ("dlq-offset", b"7"),
            ("dlq-group", b"inventory"),
            *extra,
        ]
        sent = producer.send(
            topic + ".dlq",
            key=key,
            value=value,
            headers=headers,
            partition=partition,
            timestamp_ms=at,
        ).get(timeout=10)
        return LetterId(sent.topic, sent.partition, sent.offset)

    yield publish
    producer.close()


def read_at(bootstrap, topic, partition, offset, timeout=10):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=200).get(tp, []):
                if record.offset == offset:
                    return record
        raise AssertionError(f"nothing at {topic}/{partition}/{offset}")
    finally:
        consumer.close()


def redrive_records(bootstrap, key):
    """The values of the records of the redrive topic under `key`, read to its end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition("dead-letters.redriven", p)
            for p in consumer.partitions_for_topic("dead-letters.redriven")
        ]
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        values, deadline = [], time.monotonic() + 10
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            assert time.monotonic() < deadline, "the redrive topic was not read to its end"
            for batch in consumer.poll(timeout_ms=200).values():
                values += [record.value for record in batch if record.key == key]
        return values
    finally:
        consumer.close()


def test_lists_the_dead_letters_of_a_topic_oldest_first(letters, dead_letter, topic):
    now = int(time.time() * 1000)
    first, second = dead_letter(partition=1, at=now - 1), dead_letter(partition=0, at=now)

    found = letters.letters(topic)

    assert [letter.id for letter in found] == [first, second]
    assert found[0].reason == "gave up after 2 attempts: handler failed: TimeoutError()"
    assert found[0].group == "inventory"
    assert found[0].origin == topic
    assert found[0].redrive is None
    assert letters.letters(topic + ".dlq") == found
    assert f"{topic}.dlq" in letters.topics()


def test_a_limit_keeps_the_newest_dead_letters(letters, dead_letter, topic):
    now = int(time.time() * 1000)
    ids = [dead_letter(partition=n % 2, at=now + n) for n in range(5)]

    assert [letter.id for letter in letters.letters(topic, limit=2)] == ids[-2:]


def test_gets_one_dead_letter_with_its_key_value_and_headers(letters, dead_letter):
    letter = dead_letter(value=b"\x00not json", key=None)

    found = letters.get(letter)

    assert (found.id, found.key, found.value) == (letter, None, b"\x00not json")
    assert found.header("dlq-offset") == "7"
    assert letters.redriven(letter) is None


def without_trace(headers):
    return [header for header in headers if header[0] != "traceparent"]


def test_a_redrive_republishes_the_original_without_the_dlq_headers(
    kafka_bootstrap, letters, dead_letter, topic
):
    letter = dead_letter()
    original = letters.get(letter)

    done = letters.redrive(letter)

    assert (done.letter, done.topic) == (str(letter), topic)
    record = read_at(kafka_bootstrap, topic, done.partition, done.offset)
    assert (record.key, record.value) == (b"order-1", VALUE)
    kept = [(name, value) for name, value in original.headers if not name.startswith("dlq-")]
    # The trace context is the redrive's own send span's where tracing is set
    # up in this process, else the one the dead letter carried.
    assert without_trace(record.headers) == [
        *without_trace(kept),
        ("redriven-from", str(letter).encode()),
    ]
    assert [name for name, _ in record.headers].count("traceparent") == 1
    assert letters.redriven(letter) == done
    assert letters.get(letter).redrive == done


def test_a_redrive_is_recorded_in_the_redrive_topic_keyed_by_the_dead_letter(
    kafka_bootstrap, letters, dead_letter
):
    letter = dead_letter()

    done = letters.redrive(letter)

    [value] = redrive_records(kafka_bootstrap, str(letter).encode())
    assert json.loads(value) == {
        "topic": done.topic,
        "partition": done.partition,
        "offset": done.offset,
        "time": done.time,
    }


def test_a_second_redrive_is_refused_unless_asked_again(letters, dead_letter):
    letter = dead_letter()
    first = letters.redrive(letter)

    with pytest.raises(AlreadyRedriven) as refused:
        letters.redrive(letter)
    again = letters.redrive(letter, again=True)

    assert refused.value.redrive == first
    assert str(letter) in str(refused.value)
    assert again.offset != first.offset or again.partition != first.partition
    assert letters.redriven(letter) == again


def test_a_redrive_goes_to_the_topic_chosen(kafka_bootstrap, letters, dead_letter, topic):
    letter = dead_letter()

    done = letters.redrive(letter, to=topic + ".other")

    assert done.topic == topic + ".other"
    assert read_at(kafka_bootstrap, done.topic, done.partition, done.offset).value == VALUE


def test_a_redrive_replaces_an_earlier_redriven_from_header(kafka_bootstrap, letters, dead_letter):
    letter = dead_letter(extra=[("redriven-from", b"elsewhere.dlq/0/1")])

    done = letters.redrive(letter)

    record = read_at(kafka_bootstrap, done.topic, done.partition, done.offset)
    assert [v for k, v in record.headers if k == "redriven-from"] == [str(letter).encode()]


def test_a_redrive_to_a_missing_topic_sends_and_records_nothing(letters, dead_letter):
    letter = dead_letter()

    with pytest.raises(DeadLetterError, match="there is no topic no-such-topic"):
        letters.redrive(letter, to="no-such-topic")

    assert letters.redriven(letter) is None


@pytest.mark.parametrize(
    "where",
    ["{topic}.dlq/0/999", "{topic}.dlq/9/0", "{topic}/0/0", "test-missing.dlq/0/0"],
    ids=["offset past the end", "no such partition", "not a dead-letter topic", "no such topic"],
)
def test_rejects_an_id_where_no_dead_letter_lies(letters, dead_letter, topic, where):
    dead_letter(partition=0)

    with pytest.raises(UnknownDeadLetter):
        letters.get(LetterId.parse(where.format(topic=topic)))


@pytest.mark.parametrize("text", ["", "orders.dlq", "orders.dlq/0", "orders.dlq/a/1", "a b/0/1"])
def test_rejects_an_id_not_of_the_form_topic_partition_offset(text):
    with pytest.raises(BadLetterId, match="DLQTOPIC/PARTITION/OFFSET"):
        LetterId.parse(text)


def test_an_id_reads_back_as_it_is_written():
    assert str(LetterId.parse("orders.dlq/2/41")) == "orders.dlq/2/41"


def test_says_so_when_no_broker_answers(contracts):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]  # closed again below: nothing listens there
    with (
        DeadLetters.from_contracts(f"127.0.0.1:{port}", contracts.directory) as letters,
        pytest.raises(KafkaUnavailable, match="no Kafka broker answers"),
    ):
        letters.letters()
