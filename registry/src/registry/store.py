"""Which instances of which service are alive: leases, a change index, evictions.

Plain Python, no Flask: the HTTP views, the reaper thread and the tests all
drive the same `Store`. One `threading.Condition` guards every field; it also
wakes long-poll watchers whenever the change index moves.

Every change is also kept, by its index, in a log of the last `changes`:
`delta(since)` answers what changed after an index a watcher holds, so it
need not read the whole registry again (as Eureka's delta read does).

A lease ends only in `evict_expired()`, which the reaper calls every few
hundred milliseconds; until that sweep an instance whose lease just ran out
still counts as alive.

An instance belongs to the credential that registered it (its `owner`): no
other may renew, change or remove it. `Limits` bound what the store holds.

Registries that run side by side replicate to each other (peers.py): each
write made here is told to `on_write`, and what a peer made arrives through
`adopt`, `renew_adopted` and `drop`, which tell nobody, so nothing echoes.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, replace

from registry.models import (
    Change,
    Delta,
    Eviction,
    Instance,
    Lease,
    Limits,
    Registration,
    Snapshot,
)

Clock = Callable[[], float]
# What a write did to an instance: "register", "renew" or "remove".
OnWrite = Callable[[str, str, str], None]


class NotTheOwner(Exception):
    """The instance was registered with another credential, `owner`."""

    def __init__(self, service: str, instance_id: str, owner: str) -> None:
        super().__init__(f"{service}/{instance_id} belongs to {owner}")
        self.service = service
        self.instance_id = instance_id
        self.owner = owner


class Full(Exception):
    """No room for one more instance (`scope`: "service" or "registry")."""

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(f"{scope} holds its limit of {limit} instances")
        self.scope = scope
        self.limit = limit


class TooManyWatchers(Exception):
    """As many long polls wait as the limits allow."""


class Store:
    def __init__(
        self,
        lease_ttl_seconds: float,
        *,
        limits: Limits | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        history: int = 50,
        changes: int = 10_000,
    ) -> None:
        self.lease_ttl_seconds = lease_ttl_seconds
        self._clock = clock  # leases expire by this one: it never jumps
        self._wall_clock = wall_clock  # timestamps shown to people
        self._changed = threading.Condition()
        self.limits = limits or Limits()
        self._services: dict[str, dict[str, Instance]] = {}
        self._count = 0  # instances in all of _services
        # No lease ends before this (monotonic seconds): a sweep before it
        # need not look at every instance. Renewals only move deadlines later.
        self._earliest_deadline = float("inf")
        self._renewals = 0  # leases given or renewed: reads show their times
        self._evictions: deque[Eviction] = deque(maxlen=history)
        # Each change, the newest at index _index.
        self._changes: deque[Change] = deque(maxlen=changes)
        self._watchers = 0
        self._released = False  # stopping: no watcher waits any more
        # The index starts from the wall clock in milliseconds, not from 0, so
        # an index never repeats across restarts: a watcher still holding an
        # index from before a restart differs from the new one and is answered
        # at once, instead of waiting on an index that means something else.
        self._index = int(wall_clock() * 1000)
        # Told (kind, service, instance id) of each write made here, under the
        # lock: it must only take note (peers.Peers.told does).
        self.on_write: OnWrite | None = None

    def register(
        self, service: str, registration: Registration, owner: str
    ) -> tuple[Instance, bool]:
        """Add an instance, or renew it if its id is known; `created` tells which.

        Raises NotTheOwner for an id another credential registered, Full when
        a new instance would pass a limit.
        """
        with self._changed:
            known = self._owned(service, registration.instance_id, owner)
            if known is None:
                self._check_room(service)
                self._count += 1
            instance = self._leased(service, registration, owner, known)
            self._services.setdefault(service, {})[instance.instance_id] = instance
            if known is None or not known.same_listing(instance):
                self._bump(service, registration.instance_id)
            self._told("register", service, registration.instance_id)
            return instance, known is None

    def heartbeat(self, service: str, instance_id: str, owner: str) -> Instance | None:
        """Renew a lease; None when the instance is unknown (it must register again)."""
        with self._changed:
            known = self._owned(service, instance_id, owner)
            if known is None:
                return None
            renewed = replace(known, lease=self._new_lease(known.lease_seconds))
            self._services[service][instance_id] = renewed
            self._told("renew", service, instance_id)
            return renewed

    def deregister(self, service: str, instance_id: str, owner: str) -> bool:
        with self._changed:
            if self._owned(service, instance_id, owner) is None:
                return False
            removed = self._remove(service, instance_id)
            self._bump(service, instance_id, removed)
            self._told("remove", service, instance_id)
            return True

    def adopt(self, instance: Instance, expires_in: float) -> None:
        """Hold an instance a peer holds, as the peer does: its owner, its
        listing, a lease that ends `expires_in` seconds from now. Raises Full
        as `register` does."""
        with self._changed:
            known = self._services.get(instance.service, {}).get(instance.instance_id)
            if known is None:
                self._check_room(instance.service)
                self._count += 1
            now, deadline = self._wall_clock(), self._clock() + expires_in
            self._earliest_deadline = min(self._earliest_deadline, deadline)
            self._renewals += 1
            lease = Lease(last_heartbeat_at=now, expires_at=now + expires_in, deadline=deadline)
            adopted = replace(instance, lease=lease)
            self._services.setdefault(instance.service, {})[instance.instance_id] = adopted
            if known is None or not known.same_listing(adopted):
                self._bump(instance.service, instance.instance_id)

    def renew_adopted(self, service: str, instance_id: str) -> bool:
        """Renew a lease a peer renewed; False if this registry does not know it."""
        with self._changed:
            known = self._services.get(service, {}).get(instance_id)
            if known is None:
                return False
            renewed = replace(known, lease=self._new_lease(known.lease_seconds))
            self._services[service][instance_id] = renewed
            return True

    def drop(self, service: str, instance_id: str) -> None:
        """Remove an instance that left through a peer."""
        with self._changed:
            if (removed := self._remove(service, instance_id)) is not None:
                self._bump(service, instance_id, removed)

    def held(self, service: str, instance_id: str) -> tuple[Instance, float] | None:
        """The instance and the seconds left of its lease, if it is live."""
        with self._changed:
            known = self._services.get(service, {}).get(instance_id)
            return None if known is None else (known, max(known.lease.deadline - self._clock(), 0))

    def leases(self) -> list[tuple[Instance, float]]:
        """Every live instance and the seconds left of its lease: what a peer
        that starts, or comes back, is sent."""
        with self._changed:
            now = self._clock()
            return [
                (instance, max(instance.lease.deadline - now, 0.0))
                for instances in self._services.values()
                for instance in instances.values()
            ]

    def evict_expired(self) -> list[Eviction]:
        """End every lease that was not renewed in time; return what was evicted."""
        with self._changed:
            now = self._clock()
            if now < self._earliest_deadline:
                return []
            expired = [
                instance
                for instances in self._services.values()
                for instance in instances.values()
                if instance.lease.deadline <= now
            ]
            self._earliest_deadline = min(
                (
                    instance.lease.deadline
                    for instances in self._services.values()
                    for instance in instances.values()
                    if instance.lease.deadline > now
                ),
                default=float("inf"),
            )
            evicted = [Eviction.of(instance, evicted_at=self._wall_clock()) for instance in expired]
            for instance in expired:
                self._remove(instance.service, instance.instance_id)
                self._bump(instance.service, instance.instance_id, instance)
            self._evictions.extend(evicted)
            return evicted

    def instance(self, service: str, instance_id: str) -> Instance | None:
        with self._changed:
            return self._services.get(service, {}).get(instance_id)

    def snapshot(self) -> Snapshot:
        """Every service with its live instances, and the index they belong to."""
        with self._changed:
            return Snapshot.of(self._index, self._wall_clock(), self._services)

    def service_snapshot(self, name: str) -> Snapshot:
        with self._changed:
            only = {name: self._services[name]} if name in self._services else {}
            return Snapshot.of(self._index, self._wall_clock(), only)

    def delta(self, since: int) -> Delta | None:
        """What changed after index `since`; None when the log no longer
        reaches back that far, or `since` is not an index of this registry
        (one from before a restart): then only a whole read will do."""
        with self._changed:
            kept = len(self._changes)
            if not self._index - kept <= since <= self._index:
                return None
            recent = itertools.islice(self._changes, kept - (self._index - since), kept)
            # An instance changed twice is told once.
            changed = dict.fromkeys((change.service, change.instance_id) for change in recent)
            changes = [(s, i, self._services.get(s, {}).get(i)) for s, i in changed]
            return Delta(since=since, index=self._index, changes=changes)

    def changed_within(self, seconds: float) -> tuple[int, list[tuple[Instance, bool]]]:
        """The index, and each instance that changed in the last `seconds`
        (as far back as the log reaches), once: as it is now, or as it last
        was with True if it is gone. Eureka's delta read answers this."""
        with self._changed:
            since = self._clock() - seconds
            latest: dict[tuple[str, str], tuple[Instance, bool]] = {}
            for change in reversed(self._changes):
                if change.at < since:
                    break
                key = (change.service, change.instance_id)
                if key in latest:
                    continue  # a newer change of it is already told
                live = self._services.get(change.service, {}).get(change.instance_id)
                if live is not None:
                    latest[key] = (live, False)
                elif change.removed is not None:
                    latest[key] = (change.removed, True)
            return self._index, [*reversed(latest.values())]

    def instance_counts(self) -> dict[str, int]:
        """Live instances per service."""
        with self._changed:
            return {service: len(instances) for service, instances in self._services.items()}

    def evictions(self) -> list[Eviction]:
        """The last `history` evictions, newest first."""
        with self._changed:
            return [*reversed(self._evictions)]

    @property
    def index(self) -> int:
        with self._changed:
            return self._index

    @property
    def renewals(self) -> int:
        """How many leases were given or renewed: lease times changed if it moved."""
        with self._changed:
            return self._renewals

    @property
    def watchers(self) -> int:
        """How many long polls are waiting right now."""
        with self._changed:
            return self._watchers

    def wait_for_change(self, index: int, timeout: float) -> int:
        """Block while the current index equals `index`, at most `timeout` seconds.

        Any other index answers at once, a greater one too: it comes from
        before a restart, so the watcher's view is stale.
        """
        with self._changed:
            if self._index == index and self._watchers >= self.limits.watchers:
                raise TooManyWatchers
            self._watchers += 1
            try:
                self._changed.wait_for(lambda: self._index != index or self._released, timeout)
            finally:
                self._watchers -= 1
            return self._index

    def release_watchers(self) -> None:
        """Answer every waiting watcher now, and any later one at once: the
        registry is stopping, and a watcher whose process has gone would
        otherwise hold its connection, and the stop, until its wait ran out."""
        with self._changed:
            self._released = True
            self._changed.notify_all()

    def _told(self, kind: str, service: str, instance_id: str) -> None:
        if self.on_write is not None:
            self.on_write(kind, service, instance_id)

    def _owned(self, service: str, instance_id: str, owner: str) -> Instance | None:
        """The known instance, if any, once sure that `owner` registered it."""
        known = self._services.get(service, {}).get(instance_id)
        if known is not None and known.owner != owner:
            raise NotTheOwner(service, instance_id, known.owner)
        return known

    def _check_room(self, service: str) -> None:
        if len(self._services.get(service, {})) >= self.limits.instances_per_service:
            raise Full("service", self.limits.instances_per_service)
        if self._count >= self.limits.instances:
            raise Full("registry", self.limits.instances)

    def _leased(
        self, service: str, registration: Registration, owner: str, known: Instance | None
    ) -> Instance:
        lease = self._new_lease(registration.lease_seconds)
        registered_at = known.registered_at if known else lease.last_heartbeat_at
        return Instance(
            service=service,
            owner=owner,
            registered_at=registered_at,
            lease=lease,
            **asdict(registration),
        )

    def _new_lease(self, seconds: float | None) -> Lease:
        ttl = self.lease_ttl_seconds if seconds is None else seconds
        now, deadline = self._wall_clock(), self._clock() + ttl
        self._earliest_deadline = min(self._earliest_deadline, deadline)
        self._renewals += 1
        return Lease(last_heartbeat_at=now, expires_at=now + ttl, deadline=deadline)

    def _remove(self, service: str, instance_id: str) -> Instance | None:
        instances = self._services.get(service, {})
        removed = instances.pop(instance_id, None)
        if removed is not None:
            self._count -= 1
        if not instances:
            self._services.pop(service, None)
        return removed

    def _bump(self, service: str, instance_id: str, removed: Instance | None = None) -> None:
        self._index += 1
        self._changes.append(Change(service, instance_id, self._clock(), removed))
        self._changed.notify_all()
