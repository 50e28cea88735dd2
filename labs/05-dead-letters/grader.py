"""Lab 05: notifications gave up on an event of the topic orders after its
retries, the dead letter was redriven once the cause was fixed, and the
redriven event told the customer."""

from __future__ import annotations

import json

import requests

from polyshop_common.kafka_io.dead_letters import DeadLetter, DeadLetterError, DeadLetters
from polyshop_dev.labs import Grade, ShopAddress
from polyshop_dev.labs.shopping import records

GROUP = "notifications"
TOPIC = "orders"
TOLD = "notifications"  # the topic of notification.sent
READING_SECONDS = 20


def grade(shop: ShopAddress, check: Grade) -> None:
    try:
        with DeadLetters.from_contracts(shop.kafka) as letters:
            found = [letter for letter in letters.letters(TOPIC) if letter.group == GROUP]
    except DeadLetterError as error:
        check.that(False, f"the dead letters of {TOPIC} can be read ({error})", "is the shop up?")
        return
    if not check.that(
        found,
        f"notifications dead-lettered an event of the topic {TOPIC} "
        f"(orders.dlq holds {len(found)} of group {GROUP})",
        "pause notifications, place an order, switch `errors` on for orders, "
        "then let notifications read again (steps 2 to 5)",
    ):
        return
    told = customers_told(shop)
    # The learner's: the newest that was handled after its redrive, or redriven, or any.
    letter = max(found, key=lambda one: (handled(one, told), bool(one.redrive), one.timestamp_ms))
    reason = letter.reason or ""
    check.that(
        reason.startswith("gave up after"),
        f"{letter.id} says why: notifications gave up after its retries (dlq-reason: {reason!r})",
        "keep `errors` on for orders until notifications gives up (steps 4 and 5)",
    )
    check.that(
        "errors" not in faults_of(shop, "orders"),
        "the cause is fixed: the `errors` switch is off for orders",
        "`make fault NAME=errors ON=0` (step 7)",
    )
    check.that(
        "pause-consumer" not in faults_of(shop, "notifications"),
        "notifications reads again: the `pause-consumer` switch is off",
        "`make fault NAME=pause-consumer ON=0` (step 4)",
    )
    redrive = letter.redrive
    if not check.that(
        redrive is not None,
        f"{letter.id} was redriven"
        + (f" (to {redrive.target} at {redrive.time})" if redrive else " (not yet)"),
        f"fix the cause, then `.venv/bin/polyshop dlq redrive {letter.id}` (step 7)",
    ):
        return
    order_id = (letter.key or b"").decode(errors="replace")
    check.that(
        handled(letter, told),
        f"notifications handled the redriven event: it told the customer of order {order_id} "
        "(a notification.sent on the topic notifications)",
        "was orders still failing at the redrive? Then the event is dead-lettered again: "
        "switch `errors` off and redrive the newest dead letter of `dlq list` (see the hints)",
    )


def handled(letter: DeadLetter, told: dict[tuple[str, str], int]) -> bool:
    """A notification.sent about the dead letter's event, sent after it died."""
    if letter.redrive is None:
        return False
    try:
        event = json.loads(letter.value or b"")
        about = (event["data"]["order_id"], event["type"])
    except (ValueError, KeyError, TypeError):
        return False
    return told.get(about, -1) >= letter.timestamp_ms


def customers_told(shop: ShopAddress) -> dict[tuple[str, str], int]:
    """When each customer was told, by (order id, the order event told of): the
    latest notification.sent of each, in milliseconds since the epoch."""
    told: dict[tuple[str, str], int] = {}
    for record in records(shop.kafka, TOLD, READING_SECONDS):
        try:
            data = json.loads(record.value)["data"]
            about = (data["order_id"], data["about"])
        except (ValueError, KeyError, TypeError):
            continue
        told[about] = max(told.get(about, -1), record.timestamp)
    return told


def faults_of(shop: ShopAddress, service: str) -> dict:
    answer = requests.get(f"{shop.services[service]}/readyz", timeout=5)
    return answer.json().get("faults", {})
