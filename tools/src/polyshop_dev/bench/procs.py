"""What processes cost, read from /proc: resident memory and CPU time.

Every piece runs in a process group of its own (polyshop_dev.stack starts
each in a new session), so "the piece" is every process of that group: a
gunicorn master and its workers, or one JVM, or one Node.js process.

RSS counts a page shared by several processes (a forked gunicorn worker
shares the master's) once per process, so a sum of RSS overstates; PSS
divides each shared page among its sharers, so PSS adds up to the truth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Footprint:
    name: str
    processes: int
    rss_kib: int
    pss_kib: int | None  # None where smaps_rollup cannot be read


def group_members(pgid: int) -> list[int]:
    """The pids of every live process in process group `pgid`."""
    return [pid for pid, fields in _stats() if int(fields[2]) == pgid]


def children(pid: int) -> list[int]:
    return [child for child, fields in _stats() if int(fields[1]) == pid]


def cmdline(pid: int) -> list[str]:
    try:
        return (PROC / str(pid) / "cmdline").read_text().split("\0")
    except OSError:  # the process ended while we looked
        return []


def footprint(name: str, pgid: int) -> Footprint:
    pids = group_members(pgid)
    rss = sum(_status_kib(pid, "VmRSS") for pid in pids)
    pss_values = [_pss_kib(pid) for pid in pids]
    pss = None if None in pss_values else sum(pss_values)
    return Footprint(name, len(pids), rss, pss)


def total(name: str, parts: list[Footprint]) -> Footprint:
    pss_values = [part.pss_kib for part in parts]
    return Footprint(
        name,
        sum(part.processes for part in parts),
        sum(part.rss_kib for part in parts),
        None if None in pss_values else sum(pss_values),
    )


def cpu_seconds(pgid: int) -> float:
    """User plus system CPU time of every live process of the group."""
    ticks = 0
    for _pid, fields in _stats():
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def _stats() -> list[tuple[int, list[str]]]:
    """(pid, fields after the command name) of every process; fields[1] is
    the parent, fields[2] the process group, fields[11:13] utime and stime."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        found.append((int(entry.name), text.rpartition(")")[2].split()))
    return found


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:  # the process ended while we looked
        return 0
    return 0


def _pss_kib(pid: int) -> int | None:
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
