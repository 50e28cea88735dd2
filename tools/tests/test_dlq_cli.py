"""`polyshop dlq` against a real broker, through click's runner, and the
README's commands as written, through `.venv/bin/polyshop`."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from polyshop_common.kafka_io.dead_letters import LetterId
from polyshop_dev.cli import main

ROOT = Path(__file__).resolve().parents[2]
VALUE = b'{"id":"e-1","type":"inventory.reserved"}'
LETTER = re.compile(r"[\w.-]+/\d+/\d+")
REASON = "gave up after 4 attempts: handler failed: ServiceUnavailable('orders did not answer')"


@pytest.fixture
def topic(create_topics):
    """A fresh topic with its dead-letter twin and a second topic to redrive to."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    create_topics(name, name + ".dlq", name + ".other", partitions=2)
    return name


@pytest.fixture
def dead_letter(kafka_bootstrap, topic):
    """Publish a dead letter of `topic` as a consumer gives up on one; its id."""
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")

    def publish(value=VALUE, partition=1, at=None):
        headers = [
            ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("original-topic", topic.encode()),
            ("dlq-reason", REASON.encode()),
            ("dlq-topic", topic.encode()),
            ("dlq-partition", b"0"),
            ("dlq-offset", b"3"),
            ("dlq-group", b"payments"),
        ]
        sent = producer.send(
            topic + ".dlq",
            key=b"order-1",
            value=value,
            headers=headers,
            partition=partition,
            timestamp_ms=at,
        ).get(timeout=10)
        return str(LetterId(sent.topic, sent.partition, sent.offset))

    yield publish
    producer.close()


@pytest.fixture
def dlq(kafka_bootstrap):
    """`polyshop dlq ARGS...` in this process; click's Result."""
    runner = CliRunner()
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    return lambda *args: runner.invoke(main, ["dlq", *args], env=env)


def read_at(bootstrap, place, timeout=10):
    """The record at TOPIC/PARTITION/OFFSET."""
    topic, partition, offset = place.rsplit("/", 2)
    tp = TopicPartition(topic, int(partition))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        consumer.assign([tp])
        consumer.seek(tp, int(offset))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=200).get(tp, []):
                if record.offset == int(offset):
                    return record
        raise AssertionError(f"nothing at {place}")
    finally:
        consumer.close()


def redriven_to(output):
    return re.search(r" to (\S+/\d+/\d+)", output).group(1)


def test_list_shows_each_dead_letter_on_one_line(dlq, dead_letter, topic):
    now = int(time.time() * 1000)
    first, second = dead_letter(partition=1, at=now - 1), dead_letter(partition=0, at=now)

    result = dlq("list", "--topic", topic)

    assert result.exit_code == 0, result.output
    heading, *lines = result.stdout.splitlines()
    assert heading.split() == ["DEAD", "LETTER", "WHEN", "GROUP", "REDRIVEN", "REASON"]
    assert [line.split()[0] for line in lines] == [first, second]
    assert lines[0].split()[2:4] == ["payments", "no"]
    assert REASON[:40] in lines[0] and REASON not in lines[0]  # shortened


def test_list_in_json_gives_every_field(dlq, dead_letter, topic):
    letter = dead_letter()

    result = dlq("list", "--topic", f"{topic}.dlq", "--json")

    assert result.exit_code == 0, result.output
    [found] = json.loads(result.stdout)
    assert found["id"] == letter
    assert (found["topic"], found["group"], found["reason"]) == (topic, "payments", REASON)
    assert found["redrive"] is None


def test_list_of_a_topic_that_does_not_exist_says_so(dlq):
    result = dlq("list", "--topic", "test-missing")

    assert result.exit_code == 1
    assert "there is no topic test-missing.dlq" in result.stderr


def test_show_prints_headers_key_and_the_value_as_pretty_json(dlq, dead_letter):
    letter = dead_letter()

    result = dlq("show", letter)

    assert result.exit_code == 0, result.output
    assert f"dead letter  {letter}" in result.stdout
    assert "key          order-1" in result.stdout
    assert f"  dlq-reason: {REASON}" in result.stdout
    assert f"value ({len(VALUE)} bytes, JSON)\n{{\n" in result.stdout
    assert '  "type": "inventory.reserved"' in result.stdout
    assert "redriven     no" in result.stdout


def test_show_escapes_a_value_that_is_not_json(dlq, dead_letter):
    letter = dead_letter(value=b"\x1b[2Jgone\x00\xff")

    result = dlq("show", letter)

    assert result.exit_code == 0, result.output
    assert "value (10 bytes, not JSON, escaped)" in result.stdout
    assert "\\x1b[2Jgone\\x00\\xff" in result.stdout
    assert "\x1b" not in result.stdout


def test_show_previews_the_start_of_a_long_value(dlq, dead_letter):
    letter = dead_letter(value=b"x" * 1000)

    result = dlq("show", letter)

    assert "value (1000 bytes, not JSON, escaped; the first 400)\n" + "x" * 400 + "\n" in (
        result.stdout
    )


def test_show_in_json_gives_the_exact_bytes(dlq, dead_letter):
    letter = dead_letter()

    details = json.loads(dlq("show", letter, "--json").stdout)

    assert details["value_json"] == json.loads(VALUE)
    assert details["value_base64"] == "eyJpZCI6ImUtMSIsInR5cGUiOiJpbnZlbnRvcnkucmVzZXJ2ZWQifQ=="
    assert details["value_length"] == len(VALUE)
    assert {"name": "dlq-group", "value": "payments"} in details["headers"]


def test_a_redrive_lands_on_the_original_topic_without_the_dlq_headers(
    kafka_bootstrap, dlq, dead_letter, topic
):
    letter = dead_letter()

    result = dlq("redrive", letter)

    assert result.exit_code == 0, result.output
    target = redriven_to(result.stdout)
    assert target.startswith(f"{topic}/")
    record = read_at(kafka_bootstrap, target)
    assert (record.key, record.value) == (b"order-1", VALUE)
    names = [name for name, _ in record.headers]
    # The trace context is the redrive's own send span's where tracing is set
    # up (it then comes last), else the one the dead letter carried.
    assert [name for name in names if name != "traceparent"] == ["original-topic", "redriven-from"]
    assert names.count("traceparent") == 1
    assert dict(record.headers)["redriven-from"] == letter.encode()
    assert f"to {target}" in dlq("show", letter).stdout


def test_a_second_redrive_is_refused_unless_asked_again(kafka_bootstrap, dlq, dead_letter):
    letter = dead_letter()
    first = redriven_to(dlq("redrive", letter).stdout)

    refused = dlq("redrive", letter)
    again = dlq("redrive", letter, "--again", "--json")

    assert refused.exit_code == 1
    assert f"{letter} was redriven already, to {first}" in refused.stderr
    assert "--again" in refused.stderr
    assert again.exit_code == 0, again.output
    [outcome] = json.loads(again.stdout)
    second = "{topic}/{partition}/{offset}".format(**outcome["redrive"])
    assert second != first
    assert read_at(kafka_bootstrap, second).value == VALUE


def test_a_redrive_goes_to_the_topic_chosen(kafka_bootstrap, dlq, dead_letter, topic):
    letter = dead_letter()

    result = dlq("redrive", letter, "--to", f"{topic}.other")

    assert result.exit_code == 0, result.output
    target = redriven_to(result.stdout)
    assert target.startswith(f"{topic}.other/")
    assert read_at(kafka_bootstrap, target).value == VALUE


def test_a_redrive_of_several_goes_on_past_an_unknown_one(dlq, dead_letter, topic):
    letter = dead_letter()

    result = dlq("redrive", f"{topic}.dlq/0/99", letter)

    assert result.exit_code == 2
    assert f"no dead letter at {topic}.dlq/0/99" in result.stderr
    assert f"redriven {letter} to " in result.stdout


def test_redrive_all_sends_only_what_was_not_redriven(dlq, dead_letter, topic):
    done, waiting = dead_letter(partition=0), dead_letter(partition=1)
    dlq("redrive", done)

    result = dlq("redrive", "--all", "--topic", topic)

    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.stdout.splitlines()] == [waiting]
    assert dlq("redrive", "--all", "--topic", topic).stdout == f"nothing to redrive in {topic}\n"


@pytest.mark.parametrize("command", ["show", "redrive"])
def test_an_unknown_dead_letter_exits_with_2(dlq, topic, command):
    result = dlq(command, f"{topic}.dlq/1/5")

    assert result.exit_code == 2, result.output
    assert f"no dead letter at {topic}.dlq/1/5: it is empty" in result.stderr


@pytest.mark.parametrize("command", ["show", "redrive"])
def test_an_id_of_the_wrong_form_exits_with_2(dlq, command):
    result = dlq(command, "orders.dlq:0:1")

    assert result.exit_code == 2
    assert "'orders.dlq:0:1' is not a dead letter's id: DLQTOPIC/PARTITION/OFFSET" in result.stderr


@pytest.mark.parametrize("args", [[], ["--all"], ["--all", "--topic", "x", "x.dlq/0/0"]])
def test_redrive_needs_ids_or_all_with_a_topic(dlq, args):
    result = dlq("redrive", *args)

    assert result.exit_code == 2
    assert "name dead letters" in result.stderr


def test_an_unreachable_broker_is_one_line_not_a_traceback():
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]  # closed again below: nothing listens there

    result = CliRunner().invoke(main, ["dlq", "list", "--bootstrap", f"127.0.0.1:{port}"])

    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: no Kafka broker answers at 127.0.0.1:{port}"
        " (set KAFKA_BOOTSTRAP_SERVERS or pass --bootstrap)\n"
    )


def readme_commands():
    """The `polyshop` command lines of the README's "Dead letters" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Dead letters\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith(".venv/bin/polyshop ")]
    return [shlex.split(line, comments=True) for line in lines]


def test_the_readme_commands_work_as_written(kafka_bootstrap, dead_letter, topic):
    assert (ROOT / ".venv/bin/polyshop").exists(), "make setup installs the polyshop command"
    commands = readme_commands()
    assert len(commands) >= 5
    example = next(arg for command in commands for arg in command if LETTER.fullmatch(arg))
    letter = dead_letter(partition=int(example.split("/")[1]))
    env = os.environ | {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    for command in commands:
        # The README's example topic stands for this test's own topic.
        args = [letter if arg == example else arg.replace("inventory", topic) for arg in command]
        ran = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, f"{shlex.join(command)}: {ran.stderr}"
