"""GET /: an HTML page of services, instances and their leases, for people.

It reads the same store as the API and refreshes itself every two seconds,
so a workshop can watch instances come, renew and get evicted.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from registry.context import current_settings, current_store
from registry.serialize import iso_time

REFRESH_SECONDS = 2

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def dashboard() -> str:
    store = current_store()
    snapshot = store.snapshot()
    return render_template(
        "dashboard.html",
        snapshot=snapshot,
        now=snapshot.taken_at,
        instance_count=sum(len(instances) for instances in snapshot.services.values()),
        evictions=store.evictions(),
        watchers=store.watchers,
        lease_ttl_seconds=current_settings().lease_ttl_seconds,
        refresh_seconds=REFRESH_SECONDS,
    )


@bp.app_template_filter("duration")
def duration(seconds: float) -> str:
    """A short, readable span: "0.4 s", "12 s", "3 min 5 s", "2 h 4 min"."""
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, whole = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {whole} s" if minutes else f"{whole} s"


bp.add_app_template_filter(iso_time, "iso_time")
