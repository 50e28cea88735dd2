"""`docker compose up --scale inventory=3`: three inventory containers on
one database volume, one outbox relay publishing at a time. Killing the
container whose relay holds the lease leaves every order finished and each
order's inventory events published in order (docs/adr/0008)."""

from __future__ import annotations

import json
import subprocess
import time

from containers.test_shop_in_containers import registered
from support import poll
from support.compose import ComposeShop
from support.inventory_events import check_inventory_events
from support.load import USERS, Load, Mix

LEASE_SECONDS = 5.0  # the relay's default
READ_LEASE = (
    "const Database = require('better-sqlite3');"
    "const db = new Database('/data/inventory.db', { readonly: true, fileMustExist: true });"
    "const row = db.prepare('SELECT holder FROM outbox_lease WHERE id = 1').get();"
    "console.log(JSON.stringify(row ? row.holder : null));"
)


def test_killing_the_container_that_publishes_loses_no_event_and_keeps_their_order(
    shop: ComposeShop, inventory_replicas, sign_in
):
    # Gentle enough for the shipped rate limit (20 requests a second per user).
    mix = Mix(reads=("/api/orders/{order}",), order_every=2, pace=0.1)
    with Load(shop.gateway, mix, threads=2, max_seconds=60) as load:
        load.wait_for(20, timeout=30)
        holder = poll(lambda: lease_holder(), 10, interval=0.5, what="a relay holds the lease")
        container = holder.split("/")[0]  # holder ids are host/pid/random; host = container id
        killed_at = time.time()
        docker("kill", container)
        killed_by = time.time()
        poll(
            lambda: lease_holder() not in (None, holder),
            LEASE_SECONDS + 10,
            interval=0.5,
            what="another inventory container takes the lease",
        )
        load.wait_for(20, timeout=30)
    docker("start", container)  # the folder's other tests expect every replica
    poll(
        lambda: len(registered(shop, "inventory")) == inventory_replicas,
        60,
        interval=1,
        what="the killed inventory container back in the registry",
    )

    assert load.failures() == []
    customers = {user: sign_in(shop.gateway, user, password) for user, password in USERS}
    ended = {
        order_id: customers[sent.user].wait_until_finished(order_id, timeout=60)
        for order_id, sent in load.placed().items()
    }
    assert ended, "the load placed no order"
    check_inventory_events(shop.bootstrap, ended, killed_at, killed_by)


def lease_holder() -> str | None:
    """The lease row, read in a running inventory container (the volume is theirs)."""
    running = docker("ps", "-q", "--filter", "label=com.docker.compose.service=inventory")
    for container in running.split():
        done = subprocess.run(
            ["docker", "exec", container, "node", "-e", READ_LEASE],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode == 0 and done.stdout.strip():
            return json.loads(done.stdout)
    return None


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout
