"""Lab 02's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

from pathlib import Path

import yaml

from polyshop_dev.labs.control import Control
from polyshop_dev.paths import ROOT

SHIPPED = ROOT / "gateway" / "src" / "gateway" / "routes.yaml"
ROUTE = {
    "prefix": "/api/products/ESPRESSO-MACHINE",
    "service": "catalog",
    "auth": False,
    "rate_limit": {"rate": 2, "burst": 5},
}


def solve(control: Control) -> None:
    routes = yaml.safe_load(SHIPPED.read_text())
    routes["routes"].append(ROUTE)
    path = Path(control.shop.data_dir).parent / "lab-02" / "routes.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(routes, sort_keys=False))
    control.restart("gateway", {"GATEWAY_ROUTES_FILE": str(path)})
