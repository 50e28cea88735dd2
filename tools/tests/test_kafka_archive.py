"""`make setup` records the classes a broker loads (`python -m
polyshop_dev.kafka archive`), and every broker starts from that archive."""

import subprocess

from polyshop_dev import kafka
from polyshop_dev.kafka_dist import KAFKA_VERSION


def test_a_broker_command_starts_from_the_class_archive_that_setup_made():
    command = kafka.java_command()
    assert any(option.startswith("-XX:SharedArchiveFile=") for option in command), command
    # With -Xshare:on the JVM stops, rather than start without the archive,
    # when the archive does not match the options, the class path or the JDK.
    done = subprocess.run(
        [*command, "-Xshare:on", "kafka.Kafka", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(KAFKA_VERSION)
