"""Start one more instance of a service beside a running shop, in the
foreground (Ctrl-C stops it):

    .venv/bin/python -m polyshop_dev.instance inventory --port 3011

It takes the settings the shop's own instances were started with (from the
address file `make up` writes, .run/shop.json), so the new instance
registers, shares the service's database and reads the same topics as a
member of the same consumer group. Its log goes to the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from polyshop_dev.labs.where import DEFAULT_FILE, ShopAddress
from polyshop_dev.pieces import SERVICES, free_port, service_piece


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m polyshop_dev.instance", description=__doc__)
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("--port", type=int, help="default: a free one")
    parser.add_argument("--shop", type=Path, default=DEFAULT_FILE, help="the shop's address file")
    args = parser.parse_args(argv)
    shop = ShopAddress.read(args.shop)
    port = args.port or free_port()
    piece = service_piece(args.service, port, shop.env)
    print(f"{args.service} on 127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    os.execvpe(piece.command[0], piece.command, {**os.environ, **piece.env})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
