"""How the benchmark measures, as the report explains it to its readers."""

NOTES = [
    "## How it is measured",
    "",
    "- **One run, one command.** `make bench-shop` needs nothing but `make setup`. It starts "
    "what it measures on spare loopback ports (its own Kafka broker and data folder), stops "
    "each piece by its process group, and keeps every phase bounded in time.",
    "- **Open loop.** Order *i* leaves at *t0 + i / rate* whatever the earlier answers did "
    "(asyncio and aiohttp, one process); its latencies count from that planned moment, so "
    "waiting behind a slow answer is measured, not hidden. Orders go through the gateway as "
    "alice and bob in turn, one unit of a product priced below the payment decline limit, "
    "drawn at random. The gateway runs with a copy of its routes "
    "file whose rate limits are off (one client sends far more than the 20/s a route "
    "allows a user); the shipped file is not changed.",
    "- **Placed -> final.** Read from the `orders` topic rather than by polling each order: "
    "orders stamps `order.confirmed` / `order.cancelled` with the moment the order became "
    "final (`time`, milliseconds, same machine clock), in the transaction that finishes it. "
    "That time minus the moment the POST was due is exact to the millisecond and costs the "
    "shop nothing, where polling would add load and blur the figure by its interval. "
    "*seen* adds the outbox relay and the broker: when other services can know.",
    "- **Stock.** Inventory starts from a seed file of the benchmark's own "
    "(`INVENTORY_SEED_FILE`, `polyshop_dev.seed`): the shipped products with a million "
    "units each, so no order of the run is cancelled for want of stock and every phase "
    "measures the whole saga, reserve -> authorise -> confirm. The 50/s target is checked "
    "on CONFIRMED orders, beside a check that every accepted order was confirmed.",
    "- **Consumer lag.** Committed offsets of the groups inventory, payments, orders and "
    "notifications against the end offsets of the topics each reads (Kafka's admin API), "
    "sampled every 0.5 s during a load for the peak. *Lag 0 after* is the time from the "
    "last planned order to the first sample in which every group's lag is 0 and every "
    "accepted order has its final event; *lost* counts accepted orders with no final event "
    "60 s after the load. An order the gateway accepted after the client had given up "
    "waiting (30 s) is not followed: its id never reached the client.",
    "- **Memory.** RSS and PSS from /proc of every process in each piece's process group "
    "(gunicorn master and workers, the JVM, Node.js). Summed RSS counts pages that forked "
    "workers share with their master once per process, so it overstates; summed PSS splits "
    "them and is the better total. The target, set for RSS, is checked after ten "
    "minutes at 50 orders/s (the last load), so that what grows with use shows.",
    "- **Start-up.** `python -m polyshop_dev.up` (what `make up` runs after its set-up "
    'check), timed to its line "polyshop is up", on the default ports, with its run-time '
    "folder moved to a fresh temporary one (polyshop_dev.bench.run_up) so that the "
    "developer's .run/ is untouched. *Cold*: fresh folder, so Kafka formats its storage "
    "and each service creates and seeds its database; *warm*: the same folder again. The "
    "operating system's file cache is warm in both. Each run is stopped with SIGINT, like "
    "Ctrl-C, and every piece's process group must be gone afterwards.",
    "- **Registry.** A registry of its own with 10,000 instances; heartbeats in open-loop "
    "steps from 500/s up, past 2,000/s (what 10,000 instances renewing every 5 s send), "
    "until a step is not sustained: every heartbeat answered 200, none dropped, and the "
    "answers keeping pace (at least 95 % of the offered rate from the first departure to "
    "the last answer). The lease is 600 s so that no instance expires between steps. The "
    "load generator shares the two cores; its CPU share is shown beside the registry's.",
]
