"""Kafka for the Python services: a producer that waits for the broker's
acknowledgement, and a consumer loop with the semantics of docs/saga.md
(validate, dead-letter, expire, handle idempotently, move failures to retry
topics, commit after the work is durable).

Named `kafka_io`, not `kafka`, so it is never mistaken for the client library.
"""

from polyshop_common.kafka_io.consumer import ConsumerLoop
from polyshop_common.kafka_io.processing import Handler, Outcome, RecordProcessor
from polyshop_common.kafka_io.producer import Producer, PublishError, decode, encode
from polyshop_common.kafka_io.retries import Retries

__all__ = [
    "ConsumerLoop",
    "Handler",
    "Outcome",
    "Producer",
    "PublishError",
    "RecordProcessor",
    "Retries",
    "decode",
    "encode",
]
