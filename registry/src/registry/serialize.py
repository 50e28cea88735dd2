"""The JSON shapes of the API (instances, evictions, timestamps) and of log fields."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

from registry.models import Delta, Eviction, Instance


def iso_time(seconds: float) -> str:
    """Wall-clock seconds as ISO 8601 UTC with milliseconds: 2025-01-31T12:00:00.123Z."""
    # Whole reads show three times per instance: the date and time of a
    # whole second are made once (a third of the cost of a whole read).
    whole, micros = divmod(round(seconds * 1_000_000), 1_000_000)
    return f"{_whole_second(whole)}.{micros // 1000:03d}Z"


@functools.lru_cache(maxsize=1024)
def _whole_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def compact_json(value: Any) -> bytes:
    """JSON without spaces, as every shared answer is sent."""
    return json.dumps(value, separators=(",", ":")).encode()


def seconds(value: float) -> int | float:
    """15.0 as 15, 0.5 as 0.5: whole seconds read as whole numbers."""
    return int(value) if float(value).is_integer() else value


def instance_json(instance: Instance) -> dict[str, Any]:
    return {
        "instance_id": instance.instance_id,
        "service": instance.service,
        "host": instance.host,
        "port": instance.port,
        "health_url": instance.health_url,
        "metadata": instance.metadata,
        "registered_at": iso_time(instance.registered_at),
        "last_heartbeat_at": iso_time(instance.lease.last_heartbeat_at),
        "lease_expires_at": iso_time(instance.lease.expires_at),
    }


def delta_json(delta: Delta) -> dict[str, Any]:
    """Each instance changed since `since` as it is now; `instance` null: it is gone."""
    changes = [
        {
            "service": service,
            "instance_id": instance_id,
            "instance": None if instance is None else instance_json(instance),
        }
        for service, instance_id, instance in delta.changes
    ]
    return {"since": delta.since, "changes": changes}


def lease_json(instance: Instance, lease_ttl_seconds: float) -> dict[str, Any]:
    """The answer to a registration or heartbeat."""
    return {"instance_id": instance.instance_id, "lease_ttl_seconds": seconds(lease_ttl_seconds)}


def eviction_json(eviction: Eviction) -> dict[str, Any]:
    return {
        "service": eviction.service,
        "instance_id": eviction.instance_id,
        "host": eviction.host,
        "port": eviction.port,
        "last_heartbeat_at": iso_time(eviction.last_heartbeat_at),
        "evicted_at": iso_time(eviction.evicted_at),
    }


def log_fields(service: str, instance_id: str) -> dict[str, str]:
    """`extra=` for a log line about an instance.

    The key is `service_name`, not `service`: in every log line, `service`
    already names the piece that wrote it (here, the registry).
    """
    return {"service_name": service, "instance_id": instance_id}
