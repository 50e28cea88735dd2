"""Errors that mean "try again later", shared by every retry loop.

A Kafka handler that raises a `TransientError` (or lets one through, such as
`ServiceUnavailable` from a service call) has its event retried with backoff
and its offset left uncommitted; any other error is a bug or a bad event.
"""


class TransientError(Exception):
    """A failure that may pass: a broker, a service or the database is busy or away."""
