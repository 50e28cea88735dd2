"""A small, steady load through the gateway that writes down what it saw:

    .venv/bin/python -m polyshop_dev.labs.load --seconds 30 --report .run/answers/lab-06-load.json

Two clients signed in as alice read stock and place orders (with an
Idempotency-Key, so the gateway may retry them) about ten times a second
in all, below the routes' rate limit, for `--seconds`; once a second it
notes which inventory instances the registry lists. The report (JSON) has
every failed request, the count by status, the orders placed and the
instances seen over time. It stops by itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

from polyshop_dev.labs.shopping import signed_in
from polyshop_dev.labs.where import DEFAULT_FILE, ShopAddress

CLIENTS = 2
PACE = 0.2  # seconds between two requests of one client
ORDER = {"items": [{"sku": "TEA-SENCHA", "quantity": 1}]}


class Recorder:
    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.failures: list[dict] = []
        self.orders: list[str] = []
        self.instances: list[dict] = []
        self._lock = threading.Lock()

    def saw(self, method: str, path: str, outcome: int | str, body: dict | None = None) -> None:
        with self._lock:
            self.statuses[str(outcome)] += 1
            if outcome not in (200, 202):
                self.failures.append(
                    {"at": time.time(), "method": method, "path": path, "outcome": outcome}
                )
            elif method == "POST" and body:
                self.orders.append(body["id"])


def run(shop: ShopAddress, seconds: float, report: Path) -> dict:
    recorder = Recorder()
    deadline = time.monotonic() + seconds
    started = time.time()
    clients = [
        threading.Thread(target=client, args=(shop, recorder, deadline), daemon=True)
        for _ in range(CLIENTS)
    ]
    for each in clients:
        each.start()
    while time.monotonic() < deadline:
        ids = sorted(i["instance_id"] for i in shop.instances("inventory"))
        recorder.instances.append({"at": time.time(), "inventory": ids})
        time.sleep(1)
    for each in clients:
        each.join(15)
    result = {
        "started": started,
        "ended": time.time(),
        "requests": sum(recorder.statuses.values()),
        "statuses": dict(recorder.statuses),
        "failures": recorder.failures,
        "orders": recorder.orders,
        "instances": recorder.instances,
    }
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result, indent=2) + "\n")
    return result


def client(shop: ShopAddress, recorder: Recorder, deadline: float) -> None:
    with signed_in(shop) as session:
        nth = 0
        while time.monotonic() < deadline:
            nth += 1
            if nth % 2:
                send(session, recorder, "GET", f"{shop.gateway}/api/stock/TEA-SENCHA")
            else:
                key = {"Idempotency-Key": str(uuid.uuid4())}
                send(session, recorder, "POST", f"{shop.gateway}/api/orders", key)
            time.sleep(PACE)


def send(session, recorder: Recorder, method: str, url: str, headers=None) -> None:
    path = url.split("//", 1)[1].partition("/")[2]
    try:
        if method == "GET":
            answer = session.get(url, timeout=10)
        else:
            answer = session.post(url, json=ORDER, headers=headers, timeout=10)
    except requests.RequestException as error:
        recorder.saw(method, f"/{path}", type(error).__name__)
        return
    body = answer.json() if answer.status_code == 202 else None
    recorder.saw(method, f"/{path}", answer.status_code, body)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m polyshop_dev.labs.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--shop", type=Path, default=DEFAULT_FILE, help="the shop's address file")
    args = parser.parse_args(argv)
    result = run(ShopAddress.read(args.shop), args.seconds, args.report)
    print(
        f"{result['requests']} requests, {len(result['failures'])} failed, "
        f"{len(result['orders'])} orders placed; report: {args.report}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
