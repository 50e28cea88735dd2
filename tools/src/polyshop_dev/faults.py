"""Turn the shop's fault switches on and off: `make fault NAME=slow SERVICE=catalog ON=1`.

    python -m polyshop_dev.faults list
    python -m polyshop_dev.faults on NAME [--service S]... [--instance HOST:PORT]...
    python -m polyshop_dev.faults off NAME
    python -m polyshop_dev.faults reset

It writes the flagd flag file every piece watches (FAULTS_FILE, else
.run/flags.json, where `make up` puts it): one flag a switch, off unless
turned on, for every piece or, with a targeting rule on the evaluation
context the pieces give (`service`, `instance`), for some. The pieces
follow within a second (Python) or five (Node.js); each logs the change
and lists the switches on in its /readyz. The switches:
contracts/faults.json; what each does to the shop: docs/faults.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from polyshop_common.faults import switches
from polyshop_dev.paths import RUN

DEFAULT_FILE = RUN / "flags.json"
SCHEMA = "https://flagd.dev/schema/v0/flags.json"


def flag_file() -> Path:
    return Path(os.environ.get("FAULTS_FILE") or DEFAULT_FILE)


def reset(path: Path) -> Path:
    """Write the file with every switch off; return its path."""
    write(path, {name: flag(switch) for name, switch in switches().items()})
    return path


def turn_on(
    path: Path, name: str, services: list[str] | None = None, instances: list[str] | None = None
) -> None:
    switch = known(name)
    if wrong := sorted(set(services or []) - set(switch["pieces"])):
        raise SystemExit(
            f"{name} does nothing in {', '.join(wrong)}; it acts in {', '.join(switch['pieces'])}"
        )
    change(path, name, flag(switch, on=True, services=services, instances=instances))


def turn_off(path: Path, name: str) -> None:
    change(path, name, flag(known(name)))


def flag(
    switch: dict[str, Any],
    *,
    on: bool = False,
    services: list[str] | None = None,
    instances: list[str] | None = None,
) -> dict[str, Any]:
    """One switch as a flagd flag: variants `on` and `off`, and who gets `on`."""
    off_value = False if isinstance(switch["on"], bool) else 0
    found: dict[str, Any] = {
        "state": "ENABLED",
        "variants": {"on": switch["on"], "off": off_value},
        "defaultVariant": "on" if on and not (services or instances) else "off",
    }
    if on and (services or instances):
        aimed = [
            {"in": [{"var": field}, names]}
            for field, names in (("service", services), ("instance", instances))
            if names
        ]
        found["targeting"] = {"if": [{"or": aimed}, "on", "off"]}
    return found


def describe(path: Path) -> list[str]:
    """One line a switch: its name, who has it on, what it does."""
    flags = read(path)
    lines = []
    for name, switch in switches().items():
        lines.append(f"  {name:<18} {state(flags.get(name, {})):<28} {switch['summary']}")
    return lines


def state(found: dict[str, Any]) -> str:
    if found.get("defaultVariant") == "on":
        return "ON everywhere"
    if rule := found.get("targeting"):
        aimed = [", ".join(test["in"][1]) for test in rule["if"][0]["or"]]
        return f"ON in {'; '.join(aimed)}"
    return "off"


def known(name: str) -> dict[str, Any]:
    every = switches()
    if name not in every:
        raise SystemExit(f"no fault switch is called {name!r}; there are: {', '.join(every)}")
    return every[name]


def change(path: Path, name: str, new: dict[str, Any]) -> None:
    flags = read(path)
    flags[name] = new
    write(path, flags)


def read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    return json.loads(path.read_text())["flags"]


def write(path: Path, flags: dict[str, Any]) -> None:
    """All at once (a rename), so a piece never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"$schema": SCHEMA, "flags": flags}, indent=2) + "\n")
    partial.replace(path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m polyshop_dev.faults", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every switch and who has it on")
    on = commands.add_parser("on", help="turn a switch on, everywhere or where named")
    on.add_argument("name")
    on.add_argument("--service", action="append", help="only in this service (repeatable)")
    on.add_argument("--instance", action="append", help="only in this HOST:PORT (repeatable)")
    commands.add_parser("off", help="turn a switch off everywhere").add_argument("name")
    commands.add_parser("reset", help="every switch off")
    args = parser.parse_args(argv)
    path = flag_file()
    if args.command == "on":
        turn_on(path, args.name, args.service, args.instance)
    elif args.command == "off":
        turn_off(path, args.name)
    elif args.command == "reset":
        reset(path)
    print(f"fault switches ({path}):")
    print("\n".join(describe(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
