"""Validates event files against a contracts folder, as the Python services
read every record (polyshop_common.events):

    .venv/bin/python labs/07-event-field/validate.py CONTRACTS_FOLDER EVENT.json...

One line per file: `FILE: valid`, or `FILE: ` and the reason a consumer
would dead-letter the event with. Exits 1 when a file is not valid, 2 when
the contracts cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from jsonschema.exceptions import SchemaError

from polyshop_common.events import Contracts, InvalidEvent

USAGE = "usage: .venv/bin/python labs/07-event-field/validate.py CONTRACTS_FOLDER EVENT.json..."


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        contracts = Contracts.load(Path(argv[0]))
    except SchemaError as error:
        where = f"{error.json_path}: {error.message}"
        print(f"{argv[0]}: cannot read the contracts: {where}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:  # a schema that is not JSON, say
        print(f"{argv[0]}: cannot read the contracts: {error}", file=sys.stderr)
        return 2
    invalid = 0
    for name in argv[1:]:
        try:
            contracts.parse(Path(name).read_bytes())
        except InvalidEvent as error:
            invalid += 1
            print(f"{name}: {error.reason}")
        else:
            print(f"{name}: valid")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
