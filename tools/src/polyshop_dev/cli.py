"""`polyshop`: the operator's commands (`.venv/bin/polyshop --help`)."""

from __future__ import annotations

import click

from polyshop_dev.dlq_cli import dlq


@click.group()
def main() -> None:
    """polyshop's operator commands."""


main.add_command(dlq)
