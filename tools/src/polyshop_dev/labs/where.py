"""Where a running shop is: its addresses and folders, written by whatever
started it (`make up`: .run/shop.json; the tests: their run folder), read by
the graders and by `python -m polyshop_dev.instance`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from polyshop_dev.paths import RUN

DEFAULT_FILE = RUN / "shop.json"


@dataclass(frozen=True)
class ShopAddress:
    gateway: str  # http://127.0.0.1:8080
    gateway_metrics: str  # the gateway's /metrics
    registry: str
    kafka: str  # bootstrap servers
    data_dir: str
    log_dir: str
    faults_file: str
    services: dict[str, str] = field(default_factory=dict)  # name → http://host:port
    # What every piece was started with (no secret: the secrets folder's path).
    env: dict[str, str] = field(default_factory=dict)
    zipkin: str = ""

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path = DEFAULT_FILE) -> ShopAddress:
        if not path.exists():
            raise SystemExit(f"no running shop: {path} is missing (start one with `make up`)")
        return cls(**json.loads(path.read_text()))

    def answers_file(self, lab: str) -> Path:
        """Where a lab's learner writes what they found: beside the shop's
        data (.run/answers/lab-NN.yaml under `make up`), not in the repository."""
        return Path(self.data_dir).parent / "answers" / f"lab-{lab}.yaml"

    def instances(self, service: str) -> list[dict]:
        """The registry's live instances of `service` ([] when it has none)."""
        answer = requests.get(f"{self.registry}/v1/services/{service}", timeout=5)
        if answer.status_code == 404:
            return []
        answer.raise_for_status()
        return answer.json()["instances"]

    def log_lines(self, piece: str) -> list[dict]:
        """The piece's JSON log lines (none while it has no log)."""
        path = Path(self.log_dir) / f"{piece}.log"
        return json_lines(path) if path.exists() else []


def json_lines(path: Path) -> list[dict]:
    """A log's JSON lines; what is not JSON (a runtime's own words) is skipped."""
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines
