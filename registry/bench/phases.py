"""The phases of `make bench-registry`, run the same way against each registry.

10,000 instances (100 services of 100) are registered, then renewed at
steps of rising rate; whole reads come at 20 a second, plain and gzipped;
a new instance is timed until a reader sees it, a silent one until reads
no longer list it. Every load is open-loop (polyshop_dev.bench.openloop):
requests leave on schedule, so a slow registry shows as latency.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp
from targets import Target, eureka_instance

from polyshop_dev.bench import procs
from polyshop_dev.bench.openloop import Run, open_loop
from polyshop_dev.bench.registry import Step, describe, heartbeat_step, instances

STEPS = (2000, 3000, 4000, 6000)  # heartbeats per second
STEP_SECONDS = 6.0
# Before the steps, unreported: the JVM compiles Eureka's hot paths as they
# run, and a cold one would be measured at its slowest.
WARM_UP_RATE, WARM_UP_SECONDS = 1000, 20.0
DESIGN_RATE = 2000  # 10,000 instances renewing every 5 s
READ_RATE, READ_SECONDS = 20, 10.0
WATCHERS = 100
GIVE_UP_SECONDS = 300.0  # on a propagation or an eviction


@dataclass
class Measured:
    target: str
    registered: int = 0
    registrations_per_s: float = 0.0
    rss_mib: float = 0.0
    steps: list[Step] = field(default_factory=list)
    reads: dict[str, Run] = field(default_factory=dict)  # by encoding
    body_bytes: dict[str, int] = field(default_factory=dict)  # by encoding, as sent
    watchers_last_ms: float | None = None  # None: the registry has no long poll
    propagation_ms: float | None = None
    eviction_s: float | None = None


async def measure(target: Target, pid: int) -> Measured:
    found = Measured(target.name)
    ids = instances()
    connector = aiohttp.TCPConnector(limit=64)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.monotonic()
        found.registered = await register_all(session, target, ids)
        found.registrations_per_s = found.registered / (time.monotonic() - began)
        found.rss_mib = procs.footprint(target.name, pid).rss_kib / 1024
        say(target, f"{found.registered:,} registered, {found.registrations_per_s:,.0f}/s")
        warm = await heartbeats(session, target, ids, WARM_UP_RATE, pid, WARM_UP_SECONDS)
        say(target, f"warm-up: {describe(warm)}")
        for rate in STEPS:
            found.steps.append(await heartbeats(session, target, ids, rate, pid))
            say(target, describe(found.steps[-1]))
        for encoding in ("identity", "gzip"):
            found.reads[encoding], found.body_bytes[encoding] = await reads(
                session, target, encoding
            )
        if not target.eureka:
            found.watchers_last_ms = await watchers(target)
        found.propagation_ms = await propagation(session, target)
        found.eviction_s = await eviction(session, target, ids)
        say(target, f"propagation {found.propagation_ms} ms, eviction {found.eviction_s} s")
    return found


async def register_all(session, target: Target, ids, workers: int = 32) -> int:
    queue, created = iter(ids), 0

    async def worker() -> None:
        nonlocal created
        for service, instance_id in queue:
            url, body = target.register(service, instance_id, 20000)
            async with session.post(url, json=body, headers=target.auth) as answer:
                await answer.read()
                created += answer.status in (201, 204)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return created


async def heartbeats(
    session, target: Target, ids, rate: int, pid: int, seconds: float = STEP_SECONDS
) -> Step:
    def url(index: int) -> str:
        return target.heartbeat(*ids[index % len(ids)])

    return await heartbeat_step(session, url, rate, pid, target.auth, seconds)


async def reads(session, target: Target, encoding: str) -> tuple[Run, int]:
    """Whole reads, each decoded as a client would; and one body's size as sent."""
    url, headers = target.whole()
    headers = {**headers, "Accept-Encoding": encoding}

    async def read(_index: int) -> tuple[int, None]:
        async with session.get(url, headers=headers) as answer:
            await answer.read()
            return answer.status, None

    run = await open_loop(read, READ_RATE, READ_SECONDS)
    async with (
        aiohttp.ClientSession(auto_decompress=False) as raw,
        raw.get(url, headers=headers) as answer,
    ):
        return run, len(await answer.read())


async def watchers(target: Target) -> float:
    """100 watchers wait for what changes after the current index, as the
    shop's clients watch; one registration wakes them: the last one's answer.

    A session of their own, without a connection limit: each watcher holds
    a connection while it waits, and the registration needs one more.
    """
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(target.whole()[0]) as answer:
            index = answer.headers["X-Registry-Index"]
        url = f"{target.whole()[0]}?since={index}&wait=30"
        answered: list[float] = []

        async def watch() -> None:
            async with session.get(url, headers={"Accept-Encoding": "gzip"}) as answer:
                await answer.read()
                answered.append(time.perf_counter())

        waiting = [asyncio.create_task(watch()) for _ in range(WATCHERS)]
        await asyncio.sleep(1.0)  # every watcher's request has reached the registry
        began = time.perf_counter()
        await post(session, target, "bench-new", "i-watched")
        await asyncio.gather(*waiting)
        return (max(answered) - began) * 1000


async def propagation(session, target: Target) -> float | None:
    """A new instance, from its registration to a reader's answer that lists it.

    The polyshop reader long-polls its service, as the shop's clients watch.
    The Eureka reader asks for the delta, as a running stock client does, but
    every 50 ms instead of every 30 s: what shows is the server's own delay
    (its read-only response cache). Not the application's own read: Eureka
    answers a key nobody asked for before past that cache, so a first read
    of a new application shows the instance at once.
    """
    url, headers = target.service("bench-new")
    if not target.eureka:
        async with session.get(url) as answer:
            index = answer.headers["X-Registry-Index"]
        watch = asyncio.create_task(session.get(f"{url}?index={index}&wait=30"))
        await asyncio.sleep(0.5)  # the watch has reached the registry
        began = time.perf_counter()
        await post(session, target, "bench-new", "i-propagated")
        async with await watch as answer:
            seen = "i-propagated" in await answer.text()
        return (time.perf_counter() - began) * 1000 if seen else None
    delta = f"{target.base}/eureka/apps/delta"
    began = time.perf_counter()
    await post(session, target, "bench-new", "i-propagated")
    return await until(session, delta, headers, lambda text: "i-propagated" in text, began, 0.05)


async def until(session, url, headers, done, began: float, interval: float) -> float | None:
    """Milliseconds from `began` until a read of `url` is `done`; None past the give-up time."""
    while time.perf_counter() - began < GIVE_UP_SECONDS:
        async with session.get(url, headers=headers) as answer:
            if done(await answer.text()):
                return (time.perf_counter() - began) * 1000
        await asyncio.sleep(interval)
    return None


async def eviction(session, target: Target, ids) -> float | None:
    """A silent instance among 10,000 renewing at the design rate: seconds
    from its last renewal (its registration) until reads no longer list it."""
    url, headers = target.service("bench-silent")
    body = eureka_instance("bench-silent", "i-silent", 20000, target.lease_seconds)
    eureka_url = f"{target.base}/eureka/apps/BENCH-SILENT"
    renewing = asyncio.create_task(renew_forever(session, target, ids))
    try:
        async with session.post(eureka_url, json=body, headers=target.auth) as answer:
            assert answer.status == 204, await answer.text()
        began = time.perf_counter()
        # Seen first (Eureka's read cache may hide it for a while), then gone.
        if not await until(session, url, headers, lambda text: "i-silent" in text, began, 0.05):
            return None
        gone = await until(session, url, headers, lambda text: "i-silent" not in text, began, 0.05)
        return None if gone is None else gone / 1000
    finally:
        renewing.cancel()


async def renew_forever(session, target: Target, ids) -> None:
    """Renew every instance at the design rate, in batches a tenth of a second apart."""
    batch, sent = DESIGN_RATE // 10, set()
    for start in range(0, 10**9, batch):
        tick = time.monotonic()
        for index in range(start, start + batch):
            url = target.heartbeat(*ids[index % len(ids)])
            task = asyncio.create_task(put(session, url, target))
            sent.add(task)
            task.add_done_callback(sent.discard)
        await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))


async def put(session, url: str, target: Target) -> None:
    try:
        async with session.put(url, headers=target.auth) as answer:
            await answer.read()
    except (aiohttp.ClientError, TimeoutError):
        pass  # the eviction phase measures reads; a lost renewal shows there


async def post(session, target: Target, service: str, instance_id: str) -> None:
    url, body = target.register(service, instance_id, 20001)
    async with session.post(url, json=body, headers=target.auth) as answer:
        assert answer.status in (201, 204), await answer.text()


def say(target: Target, line: str) -> None:
    print(f"{target.name}: {line}", flush=True)
