"""The registry alone with 10,000 registered instances: how many heartbeats a
second it answers, and how fast.

10,000 instances renewing every 5 s send 2,000 heartbeats a second; the
load steps up from below that until a step is not sustained. The lease is
set long (REGISTRY_LEASE_TTL_SECONDS) so that no instance expires between
steps: every heartbeat finds its instance, and the numbers measure renewal,
not re-registration. One registry credential, made for the run, may write
every benchmark service; the registry's default limits hold 10,000 instances.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from polyshop_dev import secrets
from polyshop_dev.bench import procs
from polyshop_dev.bench.openloop import Run, open_loop, percentile
from polyshop_dev.pieces import SECRETS_DIR, free_port, registry_piece
from polyshop_dev.stack import Stack

INSTANCES = 10_000
PER_SERVICE = 100  # 100 services of 100 instances each
HEARTBEAT_SECONDS = 5.0
STEPS = (500, 1000, 1500, 2000, 3000, 4000, 6000)  # heartbeats per second
STEP_SECONDS = 6.0


@dataclass(frozen=True)
class Step:
    run: Run
    client_cpu: float  # share of one core the load generator used
    registry_cpu: float  # share of one core the registry used
    loadavg: float  # the machine's 1-minute load average when the step began

    @property
    def p50_ms(self) -> float:
        return percentile(self.run.latencies(200), 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.run.latencies(200), 99) * 1000

    @property
    def sustained(self) -> bool:
        run = self.run
        return (
            run.dropped == 0
            and run.count(200) == run.planned
            and run.achieved(200) >= 0.95 * run.rate
        )


@dataclass(frozen=True)
class RegistryResult:
    register_seconds: float
    registered: int
    memory: procs.Footprint
    steps: list[Step]

    @property
    def sustained_rate(self) -> float:
        return max((s.run.rate for s in self.steps if s.sustained), default=0.0)

    def step(self, rate: float) -> Step | None:
        return next((s for s in self.steps if s.run.rate == rate), None)


def instances() -> list[tuple[str, str]]:
    return [(f"bench-{n // PER_SERVICE:03d}", f"i-{n:05d}") for n in range(INSTANCES)]


def measure(folder: Path) -> RegistryResult:
    port = free_port()
    # A registry credential of the run's own that may write every benchmark service.
    services = sorted({service for service, _ in instances()})
    secrets.generate(folder / "secrets", {"bench": services})
    token = secrets.read(folder / "secrets", "bench", "registry-token")
    env = {SECRETS_DIR: str(folder / "secrets"), "REGISTRY_LEASE_TTL_SECONDS": "600"}
    with Stack(folder / "logs") as stack:
        running = stack.start(registry_piece(port, env))
        print(f"registry: started on port {port}, pid {running.pid}", flush=True)
        auth = {"Authorization": f"Bearer {token}"}
        return asyncio.run(_measure(f"http://127.0.0.1:{port}", running.pid, auth))


async def _measure(base: str, pgid: int, auth: dict[str, str]) -> RegistryResult:
    ids = instances()
    connector = aiohttp.TCPConnector(limit=64)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.monotonic()
        registered = await _register_all(session, base, ids, auth)
        register_seconds = time.monotonic() - began
        print(f"registry: {registered:,} instances registered in {register_seconds:.1f} s")
        memory = procs.footprint("registry", pgid)
        steps = []
        for rate in STEPS:
            step = await _heartbeat_step(session, base, ids, rate, pgid, auth)
            steps.append(step)
            print(f"registry: {describe(step)}", flush=True)
            if not step.sustained and rate >= INSTANCES / HEARTBEAT_SECONDS:
                break  # past the target rate and past what the registry sustains
    return RegistryResult(register_seconds, registered, memory, steps)


async def _register_all(
    session: aiohttp.ClientSession,
    base: str,
    ids: list[tuple[str, str]],
    auth: dict[str, str],
    workers: int = 32,
) -> int:
    """Register every instance, `workers` requests at a time; count the 201s."""
    queue = iter(ids)
    created = 0

    async def worker() -> None:
        nonlocal created
        for service, instance_id in queue:
            body = {"instance_id": instance_id, "host": "127.0.0.1", "port": 20000}
            url = f"{base}/v1/services/{service}/instances"
            async with session.post(url, json=body, headers=auth) as answer:
                await answer.read()
                created += answer.status == 201

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), timeout=120)
    return created


async def _heartbeat_step(
    session: aiohttp.ClientSession,
    base: str,
    ids: list[tuple[str, str]],
    rate: int,
    pgid: int,
    auth: dict[str, str],
) -> Step:
    def url(index: int) -> str:
        service, instance_id = ids[index % len(ids)]
        return f"{base}/v1/services/{service}/instances/{instance_id}/heartbeat"

    return await heartbeat_step(session, url, rate, pgid, auth)


async def heartbeat_step(
    session: aiohttp.ClientSession,
    url: Callable[[int], str],
    rate: int,
    pgid: int,
    headers: dict[str, str],
    seconds: float = STEP_SECONDS,
) -> Step:
    """Heartbeats to `url(i)` for the i-th, open-loop at `rate` a second;
    the CPU of the load generator and of the registry (process group `pgid`)."""

    async def beat(index: int) -> tuple[int, None]:
        async with session.put(url(index), headers=headers) as answer:
            await answer.read()
            return answer.status, None

    loadavg = os.getloadavg()[0]
    client_before, registry_before = time.process_time(), procs.cpu_seconds(pgid)
    began = time.monotonic()
    run = await open_loop(beat, rate, seconds)
    wall = time.monotonic() - began
    return Step(
        run,
        (time.process_time() - client_before) / wall,
        (procs.cpu_seconds(pgid) - registry_before) / wall,
        loadavg,
    )


def describe(step: Step) -> str:
    run = step.run
    return (
        f"{run.rate:>5,.0f} heartbeats/s offered, {run.achieved(200):>7,.0f}/s answered "
        f"200, p50 {step.p50_ms:.1f} ms, p99 {step.p99_ms:.1f} ms, dropped {run.dropped}, "
        f"registry CPU {step.registry_cpu:.0%}, generator CPU {step.client_cpu:.0%}"
        f"{'' if step.sustained else '  (not sustained)'}"
    )
