"""Poison of every kind, sent to a topic read in both languages while orders
flow, goes to the dead-letter topic once for each consumer group it poisons,
with its reason, its bytes unchanged and where it came from; every group
moves past it, and the orders placed meanwhile all finish."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from polyshop_dev.paths import CONTRACTS
from support import poll
from support.faults import FaultShop, assert_totals_add_up, settle, stock
from support.kafka_probe import committed_offsets, records, send_raw
from support.load import Load, Mix

MIB = 1024 * 1024
DEPTH = 100_000
# topic → the groups that read it (Python: payments, orders; Node.js: the rest).
READERS = {
    "orders": ("inventory", "notifications", "payments", "storefront"),
    "inventory": ("payments", "orders", "storefront"),
}
# The type each topic's poison is made from, and the groups that act on that
# type and so let it expire: payments reads orders for order.cancelled only,
# orders reads inventory for inventory.rejected only, and storefront, a read
# model, records every event however old.
TYPES = {"orders": "order.created", "inventory": "inventory.reserved"}
EXPIRING = {"orders": ("inventory", "notifications"), "inventory": ("payments",)}


@dataclass(frozen=True)
class Poison:
    kind: str
    topic: str
    key: bytes
    value: bytes
    reason: str  # how its dlq-reason starts, in either language
    groups: tuple[str, ...]  # the groups that dead-letter it


def make_poison(kind: str, topic: str) -> Poison:
    event = valid_event(TYPES[topic])
    value, reason = BUILDERS[kind](event)
    groups = EXPIRING[topic] if kind == "expired" else READERS[topic]
    return Poison(kind, topic, event["subject"].encode(), value, reason, groups)


def nested(event: dict) -> tuple[bytes, str]:
    marker = json.dumps("@nested@")
    text = encode(event | {"data": "@nested@"}).decode()
    return text.replace(marker, "[" * DEPTH + "]" * DEPTH).encode(), "nested too deep: "


def one_mib(event: dict) -> tuple[bytes, str]:
    """A field its schema does not allow, padded until the record is 1 MiB."""
    short = len(encode(with_data(event, note="")))
    return encode(with_data(event, note="x" * (MIB - short))), f"{event['type']}: /data: "


def not_utf8(event: dict) -> tuple[bytes, str]:
    """A valid event but for its encoding: Latin-1 spells ë as one byte."""
    text = json.dumps(with_data(event, user="Zoë"), ensure_ascii=False)
    return text.encode("latin-1"), "not UTF-8: "


def unknown_version(event: dict) -> tuple[bytes, str]:
    """The next version of a type is a new type name, which no schema knows."""
    unknown = f"{event['type']}.v2"
    return encode(event | {"type": unknown}), f'unknown event type "{unknown}"'


def expired(event: dict) -> tuple[bytes, str]:
    ttl = json.loads((CONTRACTS / "expiry.json").read_text())["time_to_live_seconds"]
    old = datetime.now(UTC) - timedelta(seconds=ttl[event["type"]] + 60)
    return encode(event | {"time": rfc3339(old)}), "expired"


BUILDERS = {
    "nested": nested,
    "one-mib": one_mib,
    "not-utf8": not_utf8,
    "unknown-version": unknown_version,
    "expired": expired,
}
CASES = [(kind, topic) for kind in BUILDERS for topic in READERS]


def valid_event(event_type: str) -> dict:
    """The type's valid contract example, as a new event of a new order. Its
    one line is of a sku the load does not buy: a poison wrongly acted on
    shows as a missing dead letter, and holds no stock the totals count."""
    event = json.loads((CONTRACTS / f"events/examples/{event_type}.valid.json").read_text())
    order_id = str(uuid.uuid4())
    line = {"sku": "MUG-STONEWARE", "quantity": 1, "price_cents": 1400}
    data = event["data"] | {"order_id": order_id, "items": [line], "total_cents": 1400}
    fresh = {"id": str(uuid.uuid4()), "subject": order_id, "time": rfc3339(datetime.now(UTC))}
    return event | fresh | {"data": data}


def with_data(event: dict, **fields: str) -> dict:
    return event | {"data": event["data"] | fields}


def encode(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Run:
    """What one load run with every poison sent into it left behind."""

    poisons: dict[tuple[str, str], Poison]
    sent: dict[bytes, tuple[int, int]] = field(default_factory=dict)  # key → partition, offset
    committed: dict[tuple[str, str, int], int] = field(default_factory=dict)
    dead_letters: dict[bytes, list] = field(default_factory=dict)  # key → its dead letters
    load: Load | None = None
    placed: dict[str, str] = field(default_factory=dict)
    stock_before: dict[str, dict] = field(default_factory=dict)
    # The last log lines of each group behind at the deadline, for its report.
    behind_logs: dict[str, str] = field(default_factory=dict)

    def passed(self, poison: Poison, group: str) -> bool:
        partition, offset = self.sent[poison.key]
        return self.committed.get((group, poison.topic, partition), -1) > offset

    def all_passed(self) -> bool:
        return not self.behind()

    def behind(self) -> set[str]:
        return {
            group
            for poison in self.poisons.values()
            for group in READERS[poison.topic]
            if not self.passed(poison, group)
        }


@pytest.fixture(scope="module")
def run(shop: FaultShop) -> Run:
    """Orders flowing; every poison sent into both topics; then, once every
    reading group has committed past them all (or 60 s on), the dead letters."""
    settle(shop)
    done = Run({case: make_poison(*case) for case in CASES}, stock_before=stock(shop))
    groups = {group for readers in READERS.values() for group in readers}
    with Load(shop.gateway, Mix(order_every=2, pace=0.1), threads=3, max_seconds=120) as load:
        load.wait_for(20, timeout=20)
        for poison in done.poisons.values():
            done.sent[poison.key] = send_raw(shop.bootstrap, poison.topic, poison.key, poison.value)

        def caught_up() -> bool:
            done.committed = committed_offsets(shop.bootstrap, groups)
            return done.all_passed()

        # Who is behind, if anyone, each case says for its own poison.
        with contextlib.suppress(AssertionError):
            poll(caught_up, 60, interval=0.2, what="every group moved past every poison")
        done.behind_logs = {group: log_tail(shop, group) for group in done.behind()}
        load.wait_for(20, timeout=20)  # the load still flows after them
    done.load, done.placed = load, shop.remember(load)
    keys = {poison.key for poison in done.poisons.values()}
    for topic in READERS:
        for letter in records(shop.bootstrap, f"{topic}.dlq", lambda r: r.key in keys):
            done.dead_letters.setdefault(letter.key, []).append(letter)
    return done


@pytest.mark.parametrize(("kind", "topic"), CASES, ids=[f"{k}-{t}" for k, t in CASES])
def test_a_poison_is_dead_lettered_once_per_group_it_poisons_and_passed_by_all(run, kind, topic):
    poison = run.poisons[kind, topic]
    partition, offset = run.sent[poison.key]
    letters = run.dead_letters.get(poison.key, [])

    by_group = sorted(headers_of(letter)["dlq-group"] for letter in letters)
    assert by_group == sorted(poison.groups)
    for letter in letters:
        headers = headers_of(letter)
        assert headers["dlq-reason"].startswith(poison.reason), headers
        where = (headers["dlq-topic"], int(headers["dlq-partition"]), int(headers["dlq-offset"]))
        assert where == (topic, partition, offset)
        # Digests: a diff of a value of 1 MiB would drown the report.
        assert (letter.key, sha256(letter.value)) == (poison.key, sha256(poison.value))
    behind = [group for group in READERS[topic] if not run.passed(poison, group)]
    logs = "\n".join(run.behind_logs.get(group, "") for group in behind)
    assert behind == [], f"not committed past {topic}/{partition}/{offset}; their logs:\n{logs}"


def test_the_poisons_are_the_sizes_they_claim():
    assert len(make_poison("one-mib", "orders").value) == MIB
    assert len(make_poison("one-mib", "inventory").value) == MIB
    with pytest.raises(UnicodeDecodeError):
        make_poison("not-utf8", "orders").value.decode()
    assert make_poison("nested", "inventory").value.count(b"[") >= DEPTH


def test_the_orders_placed_among_the_poisons_all_finish(shop, run):
    assert run.load.failures() == []
    assert_totals_add_up(shop, run.placed, run.stock_before)


def sha256(value: bytes | None) -> str:
    return hashlib.sha256(value or b"").hexdigest()


def log_tail(shop: FaultShop, group: str, lines: int = 40) -> str:
    """The last lines of the logs of the pieces that read as `group`."""
    tails = []
    for path in sorted(shop.stack.log_dir.glob(f"{group}*.log")):
        text = path.read_text(errors="replace").splitlines()[-lines:]
        tails.append(f"--- {path.name}\n" + "\n".join(text))
    return "\n".join(tails)


def headers_of(record) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in record.headers}
