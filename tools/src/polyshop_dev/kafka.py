"""A real single-node Apache Kafka broker (KRaft) for development and tests.

    python -m polyshop_dev.kafka run      # in the foreground; Ctrl-C stops it
    python -m polyshop_dev.kafka topics   # create the topics of contracts/topics.json
    python -m polyshop_dev.kafka fetch    # only download the jars
    python -m polyshop_dev.kafka archive  # record the classes a broker loads (`make setup`)

If KAFKA_BOOTSTRAP_SERVERS is set, that broker is used and none is started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from base64 import urlsafe_b64encode
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from polyshop_dev.kafka_dist import ensure_jars
from polyshop_dev.paths import CONTRACTS, ROOT, RUN

CONFIG_DIR = ROOT / "tools" / "kafka"
# A bounded heap, and the JIT's quick tier only: a broker for a laptop is
# started often and loaded lightly, and the optimising tier spent more CPU
# compiling in the first minutes than the broker spent serving (it competed
# with the services on a 2-core machine). The serial collector, and a heap
# that starts small and grows as needed: measured at 50 orders/s, the
# broker held about 95 MiB less than with G1 and 256 MiB up front, at the
# same CPU per order.
JVM_OPTIONS = ["-Xms64m", "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
# Application class-data sharing (docs/adr/0005): `archive` starts a broker
# once and has the JVM write the classes it loaded to this file; every later
# broker maps them instead of loading and verifying them again.
CLASS_ARCHIVE = "classes.jsa"
NO_JAVA = (
    "Kafka needs Java 17 or newer and none was found: install a JDK "
    "(for example `apt-get install openjdk-17-jre-headless`), or run polyshop "
    "with `docker compose up` instead."
)


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not found or not Path(found).exists():
        raise SystemExit(NO_JAVA)
    return found


def prepare(
    data_dir: Path,
    port: int,
    controller_port: int,
    *,
    node_id: int = 1,
    voters: str | None = None,
    cluster_id: str | None = None,
    copies: int = 1,
) -> list[str]:
    """Write the broker's configuration, format its storage once, and
    return the command that runs it. Alone by default; one of a cluster
    given the cluster's `voters` (`1@127.0.0.1:PORT,2@...`), its shared
    `cluster_id` and how many `copies` of each record it keeps."""
    base = java_command()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = data_dir / "data"
    properties = data_dir / "server.properties"
    template = (CONFIG_DIR / "server.properties").read_text()
    properties.write_text(
        template.format(
            port=port,
            controller_port=controller_port,
            log_dir=log_dir,
            node_id=node_id,
            voters=voters or f"{node_id}@127.0.0.1:{controller_port}",
            copies=copies,
            min_insync=max(copies - 1, 1),
        )
    )
    if not (log_dir / "meta.properties").exists():
        cluster_id = cluster_id or new_cluster_id()
        subprocess.run(
            [*base, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return [*base, "kafka.Kafka", str(properties)]


def java_command() -> list[str]:
    """`java` with the broker's options and class path, up to the main class."""
    libs = ensure_jars()
    archive = libs.parent / CLASS_ARCHIVE
    shared = [f"-XX:SharedArchiveFile={archive}"] if archive.exists() else []
    logging = f"-Dlog4j2.configurationFile={CONFIG_DIR / 'log4j2.properties'}"
    return [java(), *JVM_OPTIONS, *shared, logging, "-cp", f"{libs}/*"]


def archive_classes() -> Path:
    """Start a broker on spare ports, create the topics, stop it, and keep
    the classes its JVM loaded as the archive every later broker starts
    from. Made with the options every broker runs with: an archive made
    with others (or by another JDK) is refused by the JVM, which then
    starts without it and says so in the broker's log."""
    from polyshop_dev.pieces import free_port  # pieces imports this module

    libs = ensure_jars()
    archive = libs.parent / CLASS_ARCHIVE
    archive.unlink(missing_ok=True)
    written = archive.with_suffix(".part")
    written.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="polyshop-kafka-") as folder:
        port, controller_port = free_port(), free_port()
        command = prepare(Path(folder), port, controller_port)
        command.insert(1, f"-XX:ArchiveClassesAtExit={written}")
        broker = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            bootstrap = f"127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while not is_ready(bootstrap):
                if broker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the broker did not start")
                time.sleep(0.2)
            ensure_topics(bootstrap)
        finally:
            broker.terminate()  # the JVM writes the archive as it exits
            broker.wait(60)
    if not written.exists():
        raise RuntimeError("the JVM wrote no archive")
    written.rename(archive)
    return archive


def new_cluster_id() -> str:
    """A random cluster id as Kafka's own Uuid.randomUuid() makes them: one
    that starts with "-" is drawn again, or the storage tool would read it as
    an option (one format in 64 failed that way)."""
    while True:
        cluster_id = urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def is_ready(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        # A plain connect first: cheap, and it leaves no client half-built.
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


def topic_names() -> list[str]:
    """Every topic of the contract: each topic, its dead-letter and retry
    topics, and the compacted record of redriven dead letters."""
    spec = json.loads((CONTRACTS / "topics.json").read_text())
    retries = [f"{spec['retry_suffix']}{level}" for level in range(1, spec["retry_levels"] + 1)]
    suffixes = ["", spec["dead_letter_suffix"], *retries]
    return [t + suffix for t in spec["topics"] for suffix in suffixes] + [spec["redrive_topic"]]


def ensure_topics(bootstrap: str, replicas: int = 1, min_insync: int | None = None) -> list[str]:
    """Create the topics of the contract (topic_names), `replicas` copies of
    each, `min_insync` of which must hold a record before an acks=all
    producer hears it is written; topics that exist already are left as
    they are."""
    spec = json.loads((CONTRACTS / "topics.json").read_text())
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    shared = {"min.insync.replicas": str(min_insync)} if min_insync else {}

    def new(name: str) -> NewTopic:
        compacted = {"cleanup.policy": "compact"} if name == spec["redrive_topic"] else {}
        return NewTopic(name, spec["partitions"], replicas, topic_configs=shared | compacted)

    try:
        missing = set(topic_names()) - set(admin.list_topics())
        try:  # one request for all of them: a fresh broker is ready sooner
            if missing:
                admin.create_topics([new(name) for name in sorted(missing)])
        except TopicAlreadyExistsError:  # another process made some meanwhile
            for name in sorted(missing):
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics([new(name)])
    finally:
        admin.close()
    return sorted(missing)


def _run(args: argparse.Namespace) -> int:
    command = prepare(Path(args.data_dir), args.port, args.controller_port)
    bootstrap = f"127.0.0.1:{args.port}"
    broker = subprocess.Popen(command)
    # SIGTERM (from a supervisor) stops the broker as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        deadline = time.monotonic() + 60
        while not is_ready(bootstrap):
            if broker.poll() is not None or time.monotonic() > deadline:
                print("The broker did not start; its output is above.", file=sys.stderr)
                return 1
            time.sleep(0.5)
        ensure_topics(bootstrap)
        print(f"Kafka is ready on {bootstrap}; Ctrl-C stops it.", flush=True)
        return broker.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if broker.poll() is None:
            broker.terminate()
            broker.wait(30)


def _archive() -> int:
    java()
    try:
        print(f"Recorded the broker's classes in {archive_classes()}")
    except (RuntimeError, OSError, subprocess.SubprocessError, KafkaError) as error:
        # Only start-up time is lost: every broker starts without an archive.
        print(f"Kafka's class archive was not made ({error}); brokers start without it.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m polyshop_dev.kafka",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a broker in the foreground")
    run.add_argument("--port", type=int, default=9092)
    run.add_argument("--controller-port", type=int, default=9093)
    run.add_argument("--data-dir", default=str(RUN / "kafka"))
    topics = sub.add_parser("topics", help="create the contract's topics")
    topics.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    # The brokers' own settings by default (deploy/kubernetes gives both the same).
    topics.add_argument(
        "--replication-factor",
        type=int,
        default=int(os.environ.get("KAFKA_DEFAULT_REPLICATION_FACTOR", "1")),
    )
    topics.add_argument(
        "--min-insync-replicas",
        type=int,
        default=int(os.environ.get("KAFKA_MIN_INSYNC_REPLICAS", "0")) or None,
    )
    sub.add_parser("fetch", help="download the broker's jars")
    sub.add_parser("archive", help="record the classes a broker loads, for faster starts")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(ensure_jars())
        return 0
    if args.command == "archive":
        return _archive()
    if args.command == "topics":
        made = ensure_topics(args.bootstrap, args.replication_factor, args.min_insync_replicas)
        print("created:", ", ".join(made) or "nothing, all exist")
        return 0
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        print("KAFKA_BOOTSTRAP_SERVERS is set: use that broker; none started.")
        return 0
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
