"""python -m polyshop_dev.labs check NN [--shop FILE]: grade lab NN against
the running shop; exits 0 when every expectation holds, 1 otherwise.
python -m polyshop_dev.labs list: the labs."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from polyshop_dev.labs.grading import Grade
from polyshop_dev.labs.where import DEFAULT_FILE, ShopAddress
from polyshop_dev.paths import ROOT

LABS = ROOT / "labs"


def lab_folder(number: str) -> Path:
    found = sorted(LABS.glob(f"{int(number):02d}-*"))
    if not found:
        raise SystemExit(f"no lab {number}: the labs are {', '.join(p.name for p in all_labs())}")
    return found[0]


def all_labs() -> list[Path]:
    return sorted(p for p in LABS.iterdir() if p.is_dir() and p.name[:2].isdigit())


def load(path: Path) -> ModuleType:
    """A lab's grader.py or solution/solve.py (their folders are not packages)."""
    spec = importlib.util.spec_from_file_location(f"lab_{path.parent.name}_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where a dataclass of the module looks its names up
    spec.loader.exec_module(module)
    return module


def grade(number: str, shop: ShopAddress) -> Grade:
    folder = lab_folder(number)
    result = Grade(f"lab {folder.name}")
    load(folder / "grader.py").grade(shop, result)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m polyshop_dev.labs")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="grade a lab against the running shop")
    check.add_argument("number")
    check.add_argument("--shop", type=Path, default=DEFAULT_FILE, help="the shop's address file")
    commands.add_parser("list", help="the labs")
    args = parser.parse_args(argv)
    if args.command == "list":
        for folder in all_labs():
            print(f"  {folder.name:<28} make lab-{folder.name[:2]}-check")
        return 0
    result = grade(args.number, ShopAddress.read(args.shop))
    print(result.report())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
