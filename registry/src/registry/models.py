"""The registry's values: what a client registers, what the registry holds.

All frozen: the store replaces an instance instead of changing it, so a
snapshot handed to a view or the dashboard never changes under its reader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class Limits:
    """How much the registry holds: it keeps everything in memory."""

    instances: int = 20_000
    instances_per_service: int = 1_000
    watchers: int = 1_000  # long polls waiting at once


@dataclass(frozen=True)
class Registration:
    """A valid registration body (see `validation.parse_registration`)."""

    instance_id: str
    host: str
    port: int
    health_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # A lease of its own length (Eureka clients ask for one); None: the registry's.
    lease_seconds: float | None = None


@dataclass(frozen=True)
class Lease:
    last_heartbeat_at: float  # wall-clock seconds, for people
    expires_at: float  # wall-clock seconds, for people
    deadline: float  # monotonic seconds: what eviction goes by, immune to clock changes


@dataclass(frozen=True)
class Instance:
    service: str
    instance_id: str
    host: str
    port: int
    health_url: str | None
    metadata: dict[str, str]
    owner: str  # the credential that registered it: only that one renews, changes or removes it
    registered_at: float
    lease: Lease
    lease_seconds: float | None = None  # None: the registry's own lease length

    def same_listing(self, other: Instance) -> bool:
        """True when only the lease differs: watchers need not hear of it."""
        return (self.host, self.port, self.health_url, self.metadata) == (
            other.host,
            other.port,
            other.health_url,
            other.metadata,
        )


@dataclass(frozen=True)
class Delta:
    """What changed from change index `since` to `index`: each instance that
    changed, once, as it is now (None: it is gone)."""

    since: int
    index: int
    changes: list[tuple[str, str, Instance | None]]  # (service, instance_id, instance)


@dataclass(frozen=True)
class Change:
    """One entry of the store's change log: which instance changed, when
    (monotonic seconds), and, if the change removed it, how it last was."""

    service: str
    instance_id: str
    at: float
    removed: Instance | None = None


@dataclass(frozen=True)
class Eviction:
    service: str
    instance_id: str
    host: str
    port: int
    last_heartbeat_at: float
    evicted_at: float

    @classmethod
    def of(cls, instance: Instance, evicted_at: float) -> Eviction:
        return cls(
            service=instance.service,
            instance_id=instance.instance_id,
            host=instance.host,
            port=instance.port,
            last_heartbeat_at=instance.lease.last_heartbeat_at,
            evicted_at=evicted_at,
        )


@dataclass(frozen=True)
class Snapshot:
    """Live instances by service name, as they were at change index `index`."""

    index: int
    taken_at: float  # wall-clock seconds
    services: dict[str, list[Instance]]

    @classmethod
    def of(
        cls, index: int, taken_at: float, services: Mapping[str, Mapping[str, Instance]]
    ) -> Snapshot:
        by_name = {
            name: sorted(instances.values(), key=lambda instance: instance.instance_id)
            for name, instances in sorted(services.items())
            if instances
        }
        return cls(index=index, taken_at=taken_at, services=by_name)
