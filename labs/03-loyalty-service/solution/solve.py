"""Lab 03's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from polyshop_common.signing import secret_digest
from polyshop_dev.labs.control import Control
from polyshop_dev.pieces import SECRETS_DIR, free_port

SERVICE = "loyalty"
SERVER = Path(__file__).parent / "loyalty" / "src" / "server.js"


def solve(control: Control) -> None:
    shop = control.shop
    folder = Path(shop.data_dir).parent / "lab-03"
    token = write(folder / "registry-token", secrets.token_urlsafe(32))
    # The shop's credentials and one more, loyalty's, for loyalty only: the
    # registry reads them when it starts.
    shipped = Path(shop.env[SECRETS_DIR]) / "registry" / "credentials.json"
    credentials = json.loads(shipped.read_text())
    credentials["credentials"].append(
        {"name": SERVICE, "token_sha256": secret_digest(token.read_text()), "services": [SERVICE]}
    )
    credentials_file = write(folder / "credentials.json", json.dumps(credentials, indent=2))
    control.restart("registry", {"REGISTRY_CREDENTIALS_FILE": str(credentials_file)})
    # A restarted registry knows no instance: each registers again at its next heartbeat.
    for service in shop.services:
        control.wait_registered(service, 1)

    port = free_port()
    control.start_process(
        SERVICE,
        ["node", str(SERVER)],
        {"PORT": str(port), "REGISTRY_TOKEN_FILE": str(token)},
        f"http://127.0.0.1:{port}/readyz",
    )
    control.wait_registered(SERVICE, 1)


def write(path: Path, text: str) -> Path:
    """A file only its owner reads, as the shop's own secrets are."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)
    return path
