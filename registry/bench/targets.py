"""The registries `make bench-registry` measures, and how to write and read each.

polyshop's registry is spoken to through its own API (/v1), as the shop's
clients speak to it; the Eureka server through Eureka's REST API, as a
Eureka client does. The Eureka server is Spring Cloud Netflix's, unchanged,
built from registry/bench/eureka-server with Maven into .cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from polyshop_dev import secrets
from polyshop_dev.maven import built_jar
from polyshop_dev.paths import ROOT
from polyshop_dev.pieces import SECRETS_DIR, registry_piece
from polyshop_dev.stack import Piece, http_ok

EUREKA_PROJECT = ROOT / "registry" / "bench" / "eureka-server"
EUREKA_HEAP = "-Xmx512m"
DATA_CENTER = {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
# Eureka's server as its documentation suggests tuning it for quick change:
# renewals every 5 s, a 1 s eviction timer, reads not served from the 30 s
# read-only cache, and no self-preservation (which stops evictions when
# fewer renewals come than expected).
EUREKA_TUNED = {
    "eureka.server.eviction-interval-timer-in-ms": "1000",
    "eureka.server.use-read-only-response-cache": "false",
    "eureka.server.expected-client-renewal-interval-seconds": "5",
    "eureka.server.enable-self-preservation": "false",
}


@dataclass(frozen=True)
class Target:
    name: str
    piece: Piece
    eureka: bool
    lease_seconds: int  # the lease a silent instance asks for (its default here)
    auth: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        assert self.piece.url is not None
        return self.piece.url.rstrip("/")

    def register(self, service: str, instance_id: str, port: int) -> tuple[str, dict]:
        """(url, JSON body) of a registration."""
        if not self.eureka:
            url = f"{self.base}/v1/services/{service}/instances"
            return url, {"instance_id": instance_id, "host": "127.0.0.1", "port": port}
        return f"{self.base}/eureka/apps/{service.upper()}", eureka_instance(
            service, instance_id, port, self.lease_seconds
        )

    def heartbeat(self, service: str, instance_id: str) -> str:
        if not self.eureka:
            return f"{self.base}/v1/services/{service}/instances/{instance_id}/heartbeat"
        return f"{self.base}/eureka/apps/{service.upper()}/{instance_id}?status=UP"

    def whole(self) -> tuple[str, dict[str, str]]:
        """(url, headers) of a read of the whole registry."""
        if not self.eureka:
            return f"{self.base}/v1/services", {}
        return f"{self.base}/eureka/apps/", {"Accept": "application/json"}

    def service(self, service: str) -> tuple[str, dict[str, str]]:
        if not self.eureka:
            return f"{self.base}/v1/services/{service}", {}
        return f"{self.base}/eureka/apps/{service.upper()}", {"Accept": "application/json"}


def eureka_instance(service: str, instance_id: str, port: int, lease_seconds: int) -> dict:
    """A registration as a Eureka client sends it."""
    return {
        "instance": {
            "instanceId": instance_id,
            "hostName": "127.0.0.1",
            "app": service.upper(),
            "ipAddr": "127.0.0.1",
            "status": "UP",
            "port": {"$": port, "@enabled": "true"},
            "dataCenterInfo": DATA_CENTER,
            "leaseInfo": {"renewalIntervalInSecs": 5, "durationInSecs": lease_seconds},
            "vipAddress": service,
        }
    }


def polyshop(port: int, folder: Path, services: list[str]) -> Target:
    """polyshop's registry, with one credential of the run's that may write every service.

    The lease is long (600 s) so that no instance expires between phases,
    which leave gaps in the heartbeats; the silent instance of the eviction
    phase asks, through the Eureka API, for the registry's default lease of 15 s.
    """
    secrets.generate(folder / "secrets", {"bench": services})
    token = secrets.read(folder / "secrets", "bench", "registry-token")
    env = {SECRETS_DIR: str(folder / "secrets"), "REGISTRY_LEASE_TTL_SECONDS": "600"}
    return Target(
        "polyshop",
        registry_piece(port, env),
        eureka=False,
        lease_seconds=15,
        auth={"Authorization": f"Bearer {token}"},
    )


def eureka(name: str, port: int, properties: dict[str, str], lease_seconds: int) -> Target:
    command = [
        "java",
        EUREKA_HEAP,
        "-jar",
        str(built_jar(EUREKA_PROJECT, "eureka-server.jar")),
        f"--server.port={port}",
        *(f"--{key}={value}" for key, value in properties.items()),
    ]
    url = f"http://127.0.0.1:{port}"
    piece = Piece(name, command, ready=http_ok(f"{url}/eureka/apps/"), url=url, start_timeout=120)
    return Target(name, piece, eureka=True, lease_seconds=lease_seconds)
