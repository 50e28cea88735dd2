"""What happens to one consumed record, without Kafka: the rules of docs/saga.md.

parse → validate → (dead-letter what fails, whatever the failure) → skip types not handled →
run the handler in one SQLite transaction with the insert of the event id
into processed_events. A redelivered id changes nothing. Transient failures
raise `TransientError` so the loop retries the record without committing.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from polyshop_common import tracing
from polyshop_common.db import is_transient, mark_processed, transaction
from polyshop_common.errors import TransientError
from polyshop_common.events import Contracts, InvalidEvent
from polyshop_common.kafka_io.producer import decode

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], sqlite3.Connection], None]
DeadLetter = Callable[[Any, str], None]


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    DEAD_LETTERED = "dead-lettered"


class RecordProcessor:
    def __init__(
        self,
        contracts: Contracts,
        handlers: Mapping[str, Handler],
        conn: sqlite3.Connection,
        dead_letter: DeadLetter,
    ) -> None:
        self.contracts = contracts
        self.handlers = handlers
        self.conn = conn
        self.dead_letter = dead_letter

    def process(self, record: Any) -> Outcome:
        """Do the record's work; raise TransientError if it should be tried again."""
        fields = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        try:
            event = decode(record.value)
            self.contracts.validate(event)
        except InvalidEvent as error:
            return self._dead_letter(record, error.reason, fields)
        except ValueError as error:  # not JSON (or not UTF-8)
            return self._dead_letter(record, f"not JSON: {error}", fields)
        except Exception as error:
            # Whatever else reading it raises (RecursionError for JSON nested
            # too deep): the record cannot be read, and retrying reads it the
            # same way, so it is parked; the partition moves on.
            return self._dead_letter(record, f"unreadable: {type(error).__name__}", fields)
        fields |= {"event_id": event["id"], "type": event["type"]}
        handler = self.handlers.get(event["type"])
        if handler is None:
            log.debug("skipped an event type this service does not handle", extra=fields)
            return Outcome.SKIPPED
        with tracing.use(traceparent_of(record)):
            outcome = self._handle(record, event, handler, fields)
        log.info("event %s", outcome.value, extra=fields)
        return outcome

    def _handle(self, record: Any, event: dict, handler: Handler, fields: dict) -> Outcome:
        try:
            with transaction(self.conn):
                if not mark_processed(self.conn, event["id"], event["type"]):
                    return Outcome.DUPLICATE
                handler(event, self.conn)
            return Outcome.HANDLED
        except TransientError:
            raise
        except sqlite3.OperationalError as error:
            if is_transient(error):
                raise TransientError(f"database busy: {error}") from error
            raise
        except Exception as error:
            # A bug or an event the handler cannot take: park it, do not block the partition.
            log.exception("handler failed, dead-lettering the event", extra=fields)
            return self._dead_letter(record, f"handler failed: {error!r}", fields)

    def _dead_letter(self, record: Any, reason: str, fields: dict) -> Outcome:
        self.dead_letter(record, reason)  # PublishError is transient: the record is retried
        log.warning("dead-lettered a message: %s", reason, extra=fields)
        return Outcome.DEAD_LETTERED


def traceparent_of(record: Any) -> str | None:
    for name, value in record.headers or ():
        if name == "traceparent" and value:
            return value.decode(errors="replace")
    return None
