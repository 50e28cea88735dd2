"""What happens to one consumed record, without Kafka: the rules of docs/saga.md.

parse → validate → (dead-letter what fails, whatever the failure) → skip types not handled →
dead-letter what is too old to act on → run the handler in one SQLite
transaction with the insert of the event id into processed_events. A
redelivered id, a retried copy of a handled event included, changes nothing.

A handler that fails, whatever the failure, hands the record to `retry`
(which moves it on, to a retry topic or a dead-letter topic), so one event
never holds the events behind it. Only when that hand-over fails does
`process` raise a TransientError (PublishError): the loop then retries the
record in place, without committing, since nothing holds it anywhere else.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from polyshop_common.db import is_transient, mark_processed, transaction
from polyshop_common.errors import TransientError
from polyshop_common.events import Contracts, InvalidEvent
from polyshop_common.kafka_io import spans

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], sqlite3.Connection], None]
DeadLetter = Callable[[Any, str], object]
EXPIRED = "expired"


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    RETRY_SCHEDULED = "retried"  # its copy waits on a retry topic
    DEAD_LETTERED = "dead-lettered"


# Takes a record whose handling failed and the reason; says where it went.
Retry = Callable[[Any, str], Outcome]


class RecordProcessor:
    def __init__(
        self,
        contracts: Contracts,
        handlers: Mapping[str, Handler],
        conn: sqlite3.Connection,
        dead_letter: DeadLetter,
        retry: Retry,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        expiry: bool = True,
    ) -> None:
        self.contracts = contracts
        self.handlers = handlers
        self.conn = conn
        self.dead_letter = dead_letter
        self.retry = retry
        self.now = now
        # False for a read model: it records what happened however old the
        # news; only a consumer that acts on an event lets it expire.
        self.expiry = expiry

    def process(self, record: Any) -> Outcome:
        """Do the record's work; raise TransientError if it must be tried again in place."""
        fields = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        try:
            event = self.contracts.parse(record.value)
        except InvalidEvent as error:
            return self._dead_letter(record, error.reason, fields)
        except Exception as error:
            # Whatever else checking it raises: the record cannot be read, and
            # retrying reads it the same way, so it is parked; the partition moves on.
            return self._dead_letter(record, f"unreadable: {type(error).__name__}", fields)
        fields |= {"event_id": event["id"], "type": event["type"]}
        handler = self.handlers.get(event["type"])
        if handler is None:
            log.debug("skipped an event type this service does not handle", extra=fields)
            return Outcome.SKIPPED
        if self.expiry and self.contracts.expired(event, self.now()):
            return self._dead_letter(record, EXPIRED, fields)
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
        except Exception as error:
            # A trace only for what looks like a bug: a busy database or a
            # service away explain themselves.
            log.warning("handler failed: %r", error, extra=fields, exc_info=not expected(error))
            reason = failure_reason(error)
            spans.mark_failed(reason, error)
        return self.retry(record, reason)  # PublishError: the record is retried in place

    def _dead_letter(self, record: Any, reason: str, fields: dict) -> Outcome:
        spans.mark_failed(reason)
        self.dead_letter(record, reason)  # PublishError is transient: the record is retried
        log.warning("dead-lettered a message: %s", reason, extra=fields)
        return Outcome.DEAD_LETTERED


def failure_reason(error: Exception) -> str:
    """Why a handler failed, worded as the Node.js library words it:
    "handler failed: Name: message"."""
    return f"handler failed: {type(error).__name__}: {error}"


def expected(error: Exception) -> bool:
    """A failure that may pass by itself, as opposed to a bug."""
    return isinstance(error, TransientError) or is_transient(error)
