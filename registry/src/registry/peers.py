"""Registries side by side: each sends the others what its clients wrote.

Eureka's peer replication, simplified (ADR 0016). Every registry is given
the addresses of all of them (`REGISTRY_PEERS`; its own may be among them:
it finds itself by its node id and skips it) and a token they share
(`REGISTRY_PEER_TOKEN`).

- Each write a client makes here (register, renew, remove) reaches every
  peer within `interval` seconds: one POST per peer carries all the writes
  since the last, each instance once, as its latest write left it.
- A peer answers which of the renewed instances it does not know (it
  started after they registered); those are sent whole with the next POST.
- A registry that starts asks its peers for every instance they hold, with
  what is left of each lease, before it says it is ready. A peer that could
  not be reached is sent every instance once it answers again.
- Evictions are not sent: a lease that no renewal reached ends on every
  registry alike, each by its own reaper.

So every registry converges on the same instances within one interval
while all are up, and within one lease of a peer's return.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import urllib3

from polyshop_common.backoff import Backoff
from registry.models import Instance, Lease
from registry.serialize import compact_json
from registry.store import Full, Store

NODE_HEADER = "X-Registry-Node"
WRITES_PATH = "/v1/peers/writes"
INSTANCES_PATH = "/v1/peers/instances"
BATCH = 5000  # writes per POST at most: a peer's request stays a few hundred KiB

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (service, instance id)


def instance_wire(instance: Instance, expires_in: float) -> dict[str, Any]:
    """An instance as a peer adopts it: everything but the lease's clock times."""
    return {
        "service": instance.service,
        "instance_id": instance.instance_id,
        "host": instance.host,
        "port": instance.port,
        "health_url": instance.health_url,
        "metadata": instance.metadata,
        "owner": instance.owner,
        "registered_at": instance.registered_at,
        "lease_seconds": instance.lease_seconds,
        "expires_in": round(expires_in, 3),
    }


def instance_from_wire(data: dict[str, Any]) -> tuple[Instance, float]:
    """The instance a peer sent, and how long its lease has left; KeyError or
    TypeError if it is not one."""
    instance = Instance(
        service=str(data["service"]),
        instance_id=str(data["instance_id"]),
        host=str(data["host"]),
        port=int(data["port"]),
        health_url=data["health_url"],
        metadata=dict(data["metadata"]),
        owner=str(data["owner"]),
        registered_at=float(data["registered_at"]),
        lease=Lease(0.0, 0.0, 0.0),  # replaced by the store's own
        lease_seconds=data["lease_seconds"],
    )
    return instance, float(data["expires_in"])


def apply_writes(store: Store, writes: dict[str, Any]) -> list[Key]:
    """Apply what a peer sent; return the renewed instances this registry
    does not know, for the peer to send whole."""
    for data in writes.get("register", []):
        instance, expires_in = instance_from_wire(data)
        try:
            store.adopt(instance, expires_in)
        except Full:
            log.warning("no room for an instance a peer holds", extra=_fields(instance))
    unknown = [(s, i) for s, i in writes.get("renew", []) if not store.renew_adopted(s, i)]
    for service, instance_id in writes.get("remove", []):
        store.drop(service, instance_id)
    return unknown


class Peer:
    """One other registry, and the writes not yet sent to it."""

    def __init__(self, url: str, peers: Peers) -> None:
        self.url = url.rstrip("/")
        self._peers = peers
        self._lock = threading.Lock()
        self._pending: dict[Key, str] = {}
        self._send_all = False  # it missed writes: send every instance
        self._down_since_logged = False
        self.is_self = False

    def note(self, kind: str, service: str, instance_id: str) -> None:
        key = (service, instance_id)
        with self._lock:
            # A renewal adds nothing to a registration not yet sent.
            if not (kind == "renew" and self._pending.get(key) == "register"):
                self._pending[key] = kind

    def fetch(self) -> list[dict[str, Any]] | None:
        """Every instance the peer holds; None if it cannot say (or is us)."""
        try:
            answer = self._peers.request("GET", self.url + INSTANCES_PATH)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            log.info("peer %s not reached: %s", self.url, error)
            return None
        if self._is_us(answer) or answer.status != 200:
            return None
        return answer.json()["instances"]

    def send(self) -> bool:
        """Send what is pending; False if the peer could not take it."""
        with self._lock:
            pending, self._pending = self._pending, {}
            send_all, self._send_all = self._send_all, False
        writes = self._writes(pending, send_all)
        try:
            for chunk in _chunks(writes):
                answer = self._peers.request("POST", self.url + WRITES_PATH, body=chunk)
                if self._is_us(answer):
                    return True
                if answer.status != 200:
                    raise urllib3.exceptions.HTTPError(f"answered {answer.status}")
                for service, instance_id in answer.json()["unknown"]:
                    self.note("register", service, instance_id)
        except (urllib3.exceptions.HTTPError, OSError, ValueError, KeyError) as error:
            with self._lock:
                self._send_all = True  # every instance, as it is then
                for key, kind in pending.items():  # and who left meanwhile
                    if kind == "remove":
                        self._pending.setdefault(key, kind)
            if not self._down_since_logged:
                log.warning("peer %s not reached, will send it everything: %s", self.url, error)
                self._down_since_logged = True
            return False
        if self._down_since_logged:
            log.info("peer %s reached again", self.url)
            self._down_since_logged = False
        return True

    def _writes(self, pending: dict[Key, str], send_all: bool) -> list[tuple[str, Any]]:
        store = self._peers.store
        held = [(instance, left) for instance, left in store.leases()] if send_all else []
        writes = [("register", instance_wire(i, left)) for i, left in held]
        for (service, instance_id), kind in pending.items():
            if kind == "register":
                if send_all:
                    continue  # already among them
                if (found := store.held(service, instance_id)) is not None:
                    writes.append(("register", instance_wire(*found)))
            else:
                writes.append((kind, [service, instance_id]))
        return writes

    def _is_us(self, answer: urllib3.BaseHTTPResponse) -> bool:
        if answer.headers.get(NODE_HEADER) == self._peers.node:
            self.is_self = True
            log.info("peer %s is this registry: skipped", self.url)
        return self.is_self


def _chunks(writes: list[tuple[str, Any]]) -> list[bytes]:
    bodies = []
    for start in range(0, len(writes), BATCH):
        body: dict[str, list[Any]] = {"register": [], "renew": [], "remove": []}
        for kind, value in writes[start : start + BATCH]:
            body[kind].append(value)
        bodies.append(compact_json(body))
    return bodies


class Peers:
    """Every peer of this registry, and the thread that keeps them told."""

    def __init__(
        self,
        store: Store,
        urls: tuple[str, ...],
        token: str,
        *,
        interval: float = 0.1,
        timeout: float = 2.0,
    ) -> None:
        self.store = store
        self.node = uuid.uuid4().hex  # tells a registry it reached itself
        self.peers = [Peer(url, self) for url in urls]
        self._interval = interval
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            NODE_HEADER: self.node,
        }
        self._http = urllib3.PoolManager(timeout=timeout, retries=False)
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-peers", daemon=True)

    @property
    def ready(self) -> bool:
        """Has it asked every peer for what it holds (answered or not)?"""
        return self._ready.is_set()

    def start(self) -> None:
        self.store.on_write = self.told
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopped.set()
        self._thread.join(timeout)

    def told(self, kind: str, service: str, instance_id: str) -> None:
        for peer in self.peers:
            if not peer.is_self:
                peer.note(kind, service, instance_id)

    def request(self, method: str, url: str, body: bytes | None = None):
        return self._http.request(method, url, body=body, headers=self._headers)

    def catch_up(self) -> None:
        """Adopt every instance each peer holds: what this registry missed."""
        for peer in self.peers:
            if (instances := peer.fetch()) is not None:
                apply_writes(self.store, {"register": instances})
                log.info("adopted %d instances from peer %s", len(instances), peer.url)
        self._ready.set()

    def _run(self) -> None:
        self.catch_up()
        # A thread per peer: one that does not answer delays no other.
        senders = [
            threading.Thread(target=self._send_to, args=(peer,), daemon=True, name="registry-peer")
            for peer in self.peers
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()

    def _send_to(self, peer: Peer) -> None:
        backoff, failures = Backoff(self._interval), 0
        while not peer.is_self and not self._stopped.wait(
            backoff.delay(failures) if failures else self._interval
        ):
            try:
                sent = peer.send()
            except Exception:
                # Keep sending: a registry that stopped telling its peers
                # would drift from them without a word.
                log.exception("replication to peer %s failed", peer.url)
                sent = False
            failures = 0 if sent else min(failures + 1, 8)


def _fields(instance: Instance) -> dict[str, str]:
    return {"service": instance.service, "instance_id": instance.instance_id}
