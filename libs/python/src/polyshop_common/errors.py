"""Errors that mean "try again later", shared by every retry loop.

A Kafka handler that fails, with a `TransientError` (such as
`ServiceUnavailable` from a service call) or any other error, has its event
moved to a retry topic (docs/saga.md, "Retries"); only a `PublishError` from
that move has the record retried in place, with backoff and its offset left
uncommitted.
"""


class TransientError(Exception):
    """A failure that may pass: a broker, a service or the database is busy or away."""
