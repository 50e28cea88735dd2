"""Lab 02: the gateway has a route of its own for one product, public, with
a rate limit that a burst runs into while the same burst on another product
(the /api/products route) does not."""

from __future__ import annotations

import math
import time
from collections import Counter

import requests

from polyshop_dev.labs import Grade, ShopAddress

SKU = "ESPRESSO-MACHINE"
PREFIX = f"/api/products/{SKU}"
SERVICE = "catalog"
OTHER = "/api/products/TEA-SENCHA"  # served by the /api/products route
RATE = 2  # tokens a second
BURST = 5
REQUESTS = 20  # more than a worker's bucket holds, sent faster than it refills
PROBLEM = "application/problem+json"


def grade(shop: ShopAddress, check: Grade) -> None:
    listed = routes_listed(shop)
    if not check.that(
        listed.get(PREFIX) == SERVICE,
        f"GET /gateway/status lists a route {PREFIX} to {SERVICE} "
        f"(it lists {', '.join(sorted(listed))})",
        "add the route to your routes file (step 3) and start the shop with it (step 4)",
    ):
        return
    # One session, so one connection: every request below reaches the same
    # gateway worker, and so the same buckets (each worker keeps its own).
    with requests.Session() as client:
        client.trust_env = False
        first = wait_for_a_token(client, shop.gateway + PREFIX)
        if not check_route(shop, check, first):
            return
        # The burst must start from a full bucket, even right after an earlier
        # check emptied it: the gateway said when it is full again.
        full_at = time.monotonic() + int(first.headers.get("RateLimit-Reset", 0))
        check_other_route(shop, check, client)
        time.sleep(max(0.0, full_at - time.monotonic()))
        check_burst(shop, check, client)


def check_route(shop: ShopAddress, check: Grade, answer: requests.Response) -> bool:
    product = requests.get(f"{shop.services[SERVICE]}/products/{SKU}", timeout=5).json()
    hints = {
        401: "the route must be public: no token needed (step 3)",
        404: "the route's prefix must be the product's whole path (step 3)",
    }
    return check.that(
        answer.status_code == 200 and answer.json() == product,
        f"GET {PREFIX} answers 200 without a token, with catalog's product "
        f"(it answered {answer.status_code})",
        hints.get(answer.status_code, f"look for the request in {shop.log_dir}/gateway.log"),
    )


def check_other_route(shop: ShopAddress, check: Grade, client: requests.Session) -> None:
    statuses = Counter(
        client.get(shop.gateway + OTHER, timeout=5).status_code for _ in range(REQUESTS)
    )
    check.that(
        set(statuses) == {200},
        f"a burst of {REQUESTS} requests on {OTHER} is not limited ({summary(statuses)})",
        "give the new route its own `rate_limit`, and leave `defaults` as they are (step 3)",
    )


def check_burst(shop: ShopAddress, check: Grade, client: requests.Session) -> None:
    allowed: list[requests.Response] = []
    refused = None
    for _ in range(REQUESTS):
        answer = client.get(shop.gateway + PREFIX, timeout=5)
        if answer.status_code == 429:
            refused = answer
            break
        allowed.append(answer)
    before = summary(Counter(answer.status_code for answer in allowed))
    if not check.that(
        refused is not None,
        f"a burst of {REQUESTS} requests on {PREFIX} runs into 429 "
        + (f"({before} before it)" if refused is not None else f"(none refused: {before})"),
        "give the route `rate_limit: {rate: 2, burst: 5}` (step 3)",
    ):
        return
    retry_after = refused.headers.get("Retry-After", "")
    content_type = refused.headers.get("Content-Type", "")
    check.that(
        retry_after.isdigit() and int(retry_after) >= 1 and content_type.startswith(PROBLEM),
        f"the 429 says when to come back and why (Retry-After: {retry_after or 'none'}; "
        f"Content-Type: {content_type or 'none'})",
        "the gateway's own 429 carries both: make sure nothing else answers on the route",
    )
    limit, reset = bucket_seen(allowed)
    empty = math.ceil(BURST / RATE)  # seconds from an empty bucket to a full one
    check.that(
        limit == str(BURST) and reset == str(empty),
        f"the route's bucket holds {BURST} and refills at {RATE} a second (RateLimit-Limit: "
        f"{limit}; RateLimit-Reset when it ran empty: {reset}, {empty} expected)",
        "give the route `rate_limit: {rate: 2, burst: 5}` (step 3)",
    )


def wait_for_a_token(client: requests.Session, url: str, timeout: float = 10) -> requests.Response:
    """The first answer that is not 429 (an earlier burst may have emptied the bucket)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(url, timeout=5)
        if answer.status_code != 429 or time.monotonic() > deadline:
            return answer
        time.sleep(min(float(answer.headers.get("Retry-After", 1)), 2))


def bucket_seen(allowed: list[requests.Response]) -> tuple[str, str]:
    """RateLimit-Limit and RateLimit-Reset of the last answer before the 429."""
    if not allowed:
        return "none", "none"
    last = allowed[-1].headers
    return last.get("RateLimit-Limit", "none"), last.get("RateLimit-Reset", "none")


def routes_listed(shop: ShopAddress) -> dict[str, str]:
    """The gateway's routes, prefix → service, as GET /gateway/status lists them."""
    status = requests.get(f"{shop.gateway}/gateway/status", timeout=5).json()
    return {route["prefix"]: route["service"] for route in status["routes"]}


def summary(statuses: Counter) -> str:
    return ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items())) or "none"
