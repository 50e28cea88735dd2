"""Lab 03: a loyalty service is registered and ready, awards points for a
confirmed order, and awards them once, however often its order.confirmed
arrives."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import requests
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.consumer.fetcher import ConsumerRecord

from polyshop_dev.labs import Grade, ShopAddress
from polyshop_dev.labs.metrics import samples
from polyshop_dev.labs.shopping import confirmed_order, signed_in
from polyshop_dev.paths import CONTRACTS

SERVICE = GROUP = "loyalty"
TOPIC = "orders"
USER, PASSWORD = "alice", "wonderland"
CATCH_UP_SECONDS = 20  # for loyalty to read what is on the topic already
AWARD_SECONDS = 15  # for an order's points to show once it is confirmed
REPLAY_SECONDS = 8  # for a replayed record to be read (and to change nothing)


def grade(shop: ShopAddress, check: Grade) -> None:
    instances = shop.instances(SERVICE)
    if not check.that(
        instances,
        f"a {SERVICE} instance is registered (the registry lists "
        f"{', '.join(i['instance_id'] for i in instances) or 'none'})",
        "give loyalty a registry credential and restart `make up` (step 2), then start "
        "your service with REGISTRY_TOKEN_FILE naming its token (step 6)",
    ):
        return
    answers = {address: readiness(address) for address in map(address_of, instances)}
    ready = [address for address, status in answers.items() if status == 200]
    if not check.that(
        ready,
        "loyalty answers GET /readyz with 200 at the address it registered ("
        + ", ".join(f"{address}: {status}" for address, status in answers.items())
        + ")",
        "its /readyz names the check that fails: `registered` (did the registry refuse "
        "the token? loyalty's log says) or `consumer` (is Kafka reachable?)",
    ):
        return
    left = records_left(shop, CATCH_UP_SECONDS)
    if not check.that(
        left == 0,
        f"the consumer group {GROUP} has read the topic {TOPIC} to its end"
        + (f" ({left} records still unread after {CATCH_UP_SECONDS} s)" if left else ""),
        f"consume `{TOPIC}` as the group `{GROUP}` with @polyshop/common's "
        "createConsumerLoop, which commits what it has handled (step 4)",
    ):
        return
    with signed_in(shop, USER, PASSWORD) as customer:
        grade_points(shop, check, Loyalty(ready, customer))


class Loyalty:
    """The ready loyalty instances, as the demo user sees them."""

    def __init__(self, addresses: list[str], customer: requests.Session) -> None:
        self.addresses = addresses
        self.customer = customer

    @property
    def url(self) -> str:
        return f"{self.addresses[0]}/points/{USER}"

    def answer(self) -> tuple[int | None, str]:
        """The user's points (None without a valid answer), and what was answered."""
        try:
            answer = self.customer.get(self.url, timeout=5)
        except requests.RequestException as error:
            return None, f"nothing: {type(error).__name__}"
        said = f"{answer.status_code} {answer.text[:120]}"
        try:
            found = answer.json()["points"] if answer.status_code == 200 else None
        except (ValueError, KeyError, TypeError):
            return None, said
        return (found if isinstance(found, int) else None), said

    def points(self) -> int | None:
        return self.answer()[0]

    def duplicates(self) -> float:
        """Records of the topic the instances counted as duplicates, in all."""
        return sum(
            sample.value
            for address in self.addresses
            for sample in samples(f"{address}/metrics", "messaging_process_duration_seconds_count")
            if sample.labels.get("outcome") == "duplicate"
            and sample.labels.get("messaging_destination_name") == TOPIC
        )


def grade_points(shop: ShopAddress, check: Grade, loyalty: Loyalty) -> None:
    before, answered = loyalty.answer()
    if not check.that(
        before is not None,
        f'GET {loyalty.url} with {USER}\'s token answers 200 {{"user": "{USER}", '
        f'"points": N}} (it answered {answered})',
        "answer GET /points/{user} with the user's points as JSON (step 5)",
    ):
        return
    since_ms = int(time.time() * 1000) - 1000
    try:
        order_id = confirmed_order(shop, loyalty.customer).json()["id"]
    except (AssertionError, requests.RequestException) as error:
        check.that(
            False,
            f"an order of {USER}'s was confirmed through the gateway ({error})",
            "the shop itself is not well: is `make up` still running? "
            "Each piece's log is in .run/logs/",
        )
        return
    order = loyalty.customer.get(f"{shop.gateway}/api/orders/{order_id}", timeout=5).json()
    earned = order["total_cents"] // 100
    after = settled(loyalty.points, before + earned, AWARD_SECONDS)
    if not check.that(
        after == before + earned,
        f"{USER}'s points rose by {earned} for order {order_id} of {order['total_cents']} "
        f"cents (from {before} to {after})",
        "on order.confirmed, award total_cents // 100 points to the event's data.user (step 4)",
    ):
        return
    grade_replay(shop, check, loyalty, order_id, since_ms)


def grade_replay(
    shop: ShopAddress, check: Grade, loyalty: Loyalty, order_id: str, since_ms: int
) -> None:
    record = confirmed_record(shop, order_id, since_ms)
    if not check.that(
        record is not None,
        f"the order.confirmed of order {order_id} is on the topic {TOPIC}",
        "orders did not publish it: its log, .run/logs/orders.log, says why",
    ):
        return
    points, duplicates = loyalty.points(), loyalty.duplicates()
    replay(shop, record)
    deadline = time.monotonic() + REPLAY_SECONDS
    while loyalty.duplicates() == duplicates and loyalty.points() == points:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    now = loyalty.points()
    check.that(
        now == points,
        f"a copy of order {order_id}'s order.confirmed, replayed with the same key, value "
        f"and headers, changed nothing: {USER} has {points} points (found {now})",
        "award the points in the transaction that records the event's id: "
        "createConsumerLoop of @polyshop/common runs your handler in it (step 4)",
    )
    seen = loyalty.duplicates()
    check.that(
        seen > duplicates,
        "loyalty counted the copy as a duplicate: messaging_process_duration_seconds_count"
        f'{{messaging_destination_name="{TOPIC}",outcome="duplicate"}} on its /metrics '
        f"went from {duplicates:.0f} to {seen:.0f}",
        "consume with createConsumerLoop, which counts a record whose event id it has "
        "handled before as outcome `duplicate` (step 4)",
    )


def address_of(instance: dict) -> str:
    host = instance["host"]
    return f"http://{f'[{host}]' if ':' in host else host}:{instance['port']}"


def readiness(address: str) -> int | str:
    """The status of the instance's GET /readyz, or why there is none."""
    try:
        return requests.get(f"{address}/readyz", timeout=5).status_code
    except requests.RequestException as error:
        return f"no answer ({type(error).__name__})"


def settled(read: Callable[[], int | None], wanted: int | None, timeout: float) -> int | None:
    """`read()` until it returns `wanted`; its last answer at the deadline."""
    deadline = time.monotonic() + timeout
    while (found := read()) != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def partitions() -> list[TopicPartition]:
    count = json.loads((CONTRACTS / "topics.json").read_text())["partitions"]
    return [TopicPartition(TOPIC, number) for number in range(count)]


def records_left(shop: ShopAddress, timeout: float) -> int:
    """The group's lag on the topic, once it is 0 or at the deadline."""
    admin = KafkaAdminClient(bootstrap_servers=shop.kafka, request_timeout_ms=5000)
    try:
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions()})

        def left() -> int:
            committed = admin.list_group_offsets(GROUP).get(GROUP, {})
            done = {tp: max(found.offset, 0) for tp, found in committed.items()}
            return sum(max(end.offset - done.get(tp, 0), 0) for tp, end in ends.items())

        return settled(left, 0, timeout)
    finally:
        admin.close()


def confirmed_record(shop: ShopAddress, order_id: str, since_ms: int) -> ConsumerRecord | None:
    """The order's order.confirmed as it is on the topic, looked for from `since_ms` on."""
    consumer = KafkaConsumer(bootstrap_servers=shop.kafka, enable_auto_commit=False)
    try:
        consumer.assign(partitions())
        ends = consumer.end_offsets(partitions())
        starts = consumer.offsets_for_times({tp: since_ms for tp in partitions()})
        for tp in partitions():
            consumer.seek(tp, starts[tp].offset if starts.get(tp) else ends[tp])
        deadline = time.monotonic() + AWARD_SECONDS
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                for record in batch:
                    if record.key == order_id.encode() and type_of(record) == "order.confirmed":
                        return record
        return None
    finally:
        consumer.close()


def type_of(record: ConsumerRecord) -> str | None:
    try:
        return json.loads(record.value)["type"]
    except (ValueError, KeyError, TypeError):
        return None


def replay(shop: ShopAddress, record: ConsumerRecord) -> None:
    """An identical copy of the record, on its partition: what a redelivery looks like."""
    producer = KafkaProducer(bootstrap_servers=shop.kafka, acks="all")
    try:
        producer.send(
            record.topic,
            key=record.key,
            value=record.value,
            headers=list(record.headers),
            partition=record.partition,
        ).get(timeout=10)
    finally:
        producer.close()
