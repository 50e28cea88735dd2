"""`polyshop dlq list|show|redrive`: the dead letters of docs/saga.md
("Dead letters"), through polyshop_common.kafka_io.dead_letters.

Exit codes: 0 done; 1 refused (redriven already) or failed; 2 no such dead
letter, or a bad command line; 3 Kafka unreachable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click

from polyshop_common.kafka_io.dead_letters import (
    AlreadyRedriven,
    BadLetterId,
    DeadLetterError,
    DeadLetters,
    KafkaUnavailable,
    LetterId,
    UnknownDeadLetter,
)
from polyshop_dev import dlq_render as render

# The first kind that matches gives the exit code.
EXIT_CODES = ((AlreadyRedriven, 1), (UnknownDeadLetter, 2), (KafkaUnavailable, 3))
HINTS = {
    AlreadyRedriven: "; add --again to redrive it once more",
    KafkaUnavailable: " (set KAFKA_BOOTSTRAP_SERVERS or pass --bootstrap)",
}


class Failed(click.ClickException):
    """A failure printed as one line, with the exit code of its kind."""

    def __init__(self, error: DeadLetterError) -> None:
        super().__init__(str(error) + HINTS.get(type(error), ""))
        self.exit_code = exit_code(error)


def exit_code(error: DeadLetterError) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), 1)


class LetterIdType(click.ParamType):
    name = "DLQTOPIC/PARTITION/OFFSET"

    def convert(self, value: Any, param: Any, ctx: Any) -> LetterId:
        if isinstance(value, LetterId):
            return value
        try:
            return LetterId.parse(value)
        except BadLetterId as error:
            self.fail(str(error), param, ctx)


LETTER = LetterIdType()


def connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--bootstrap and --json, which every dlq command takes."""
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")(
        command
    )
    return click.option(
        "--bootstrap",
        envvar="KAFKA_BOOTSTRAP_SERVERS",
        default="127.0.0.1:9092",
        metavar="HOST:PORT",
        help="The broker (default: KAFKA_BOOTSTRAP_SERVERS, or 127.0.0.1:9092).",
    )(command)


@contextmanager
def dead_letters(bootstrap: str) -> Iterator[DeadLetters]:
    try:
        with DeadLetters.from_contracts(bootstrap) as letters:
            yield letters
    except DeadLetterError as error:
        raise Failed(error) from error


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group()
def dlq() -> None:
    """Dead letters: list them, show one, redrive them."""


@dlq.command("list")
@click.option("--topic", help="One topic's dead letters (orders or orders.dlq); all by default.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N.")
@connection_options
def list_letters(topic: str | None, limit: int | None, bootstrap: str, as_json: bool) -> None:
    """List dead letters, oldest first.

    One line each: where it lies, when, which group gave up, whether it was
    redriven, and why."""
    with dead_letters(bootstrap) as letters:
        found = letters.letters(topic, limit)
    if as_json:
        echo_json([render.summary(letter) for letter in found])
    else:
        click.echo(render.table(found) if found else "no dead letters")


@dlq.command()
@click.argument("letter", type=LETTER, metavar="DLQTOPIC/PARTITION/OFFSET")
@connection_options
def show(letter: LetterId, bootstrap: str, as_json: bool) -> None:
    """Show one dead letter: headers, key, value, redrive."""
    with dead_letters(bootstrap) as letters:
        found = letters.get(letter)
    if as_json:
        echo_json(render.details(found))
    else:
        click.echo(render.text(found))


@dlq.command()
@click.argument("ids", nargs=-1, type=LETTER, metavar="[DLQTOPIC/PARTITION/OFFSET]...")
@click.option("--to", help="The topic to publish to; by default the one it came from.")
@click.option("--again", is_flag=True, help="Redrive also what was redriven already.")
@click.option("--all", "every", is_flag=True, help="Every dead letter of --topic not redriven.")
@click.option("--topic", help="With --all: whose dead letters (orders or orders.dlq).")
@connection_options
@click.pass_context
def redrive(
    ctx: click.Context,
    ids: tuple[LetterId, ...],
    to: str | None,
    again: bool,
    every: bool,
    topic: str | None,
    bootstrap: str,
    as_json: bool,
) -> None:
    """Publish dead letters again, each once unless --again.

    The original key, value and headers (less the dlq-* ones) go to the
    topic they came from (or --to), with a redriven-from header."""
    if every == bool(ids) or (every and not topic):
        raise click.UsageError("name dead letters (DLQTOPIC/PARTITION/OFFSET), or --all --topic")
    outcomes: list[dict[str, Any]] = []
    try:
        with dead_letters(bootstrap) as letters:
            chosen = ids or [d.id for d in letters.letters(topic) if again or d.redrive is None]
            for letter in chosen:
                outcomes.append(redrive_one(letters, letter, to, again, echo=not as_json))
    finally:
        if as_json:
            echo_json(outcomes)
    if not chosen and not as_json:
        click.echo(f"nothing to redrive in {topic}")
    ctx.exit(max((outcome.get("exit_code", 0) for outcome in outcomes), default=0))


def redrive_one(
    letters: DeadLetters, letter: LetterId, to: str | None, again: bool, *, echo: bool
) -> dict[str, Any]:
    """Redrive one; a refusal or an unknown id is reported and the others go on."""
    try:
        done = letters.redrive(letter, to=to, again=again)
    except (AlreadyRedriven, UnknownDeadLetter) as error:
        failed = Failed(error)
        if echo:
            click.echo(f"Error: {failed.message}", err=True)
        return {"id": str(letter), "error": failed.message, "exit_code": failed.exit_code}
    if echo:
        click.echo(f"redriven {letter} {render.redrive_text(done)}")
    return {"id": str(letter), "redrive": asdict(done)}
