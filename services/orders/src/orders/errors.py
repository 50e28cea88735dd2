"""Domain errors of the orders service as problem JSON, in one place."""

from __future__ import annotations

from flask import Flask, Response

from orders.placing import IdempotencyConflict, MixedCurrencies
from orders.pricing import MalformedPrice, UnknownSkus
from orders.validation import InvalidOrder
from polyshop_common.events import InvalidEvent
from polyshop_common.http_client import ServiceUnavailable
from polyshop_common.problems import problem_response, register_problem_handlers


def register_errorhandlers(app: Flask) -> None:
    register_problem_handlers(app)
    app.register_error_handler(InvalidOrder, _invalid_order)
    app.register_error_handler(UnknownSkus, _unknown_skus)
    app.register_error_handler(MixedCurrencies, _mixed_currencies)
    app.register_error_handler(IdempotencyConflict, _conflict)
    app.register_error_handler(ServiceUnavailable, _catalog_unavailable)
    app.register_error_handler(MalformedPrice, _catalog_malformed)
    app.register_error_handler(InvalidEvent, _breaks_the_event_contract)


def _invalid_order(error: InvalidOrder) -> Response:
    return problem_response(400, "Bad Request", "The order is not valid.", errors=error.errors)


def _unknown_skus(error: UnknownSkus) -> Response:
    detail = f"The catalog has no product with the sku {', '.join(error.skus)}."
    return problem_response(400, "Bad Request", detail, skus=error.skus)


def _mixed_currencies(error: MixedCurrencies) -> Response:
    return problem_response(400, "Bad Request", f"One order, one currency: {error}.")


def _conflict(error: IdempotencyConflict) -> Response:
    detail = "This Idempotency-Key was used before with another body."
    return problem_response(409, "Conflict", detail)


def _catalog_unavailable(error: ServiceUnavailable) -> Response:
    detail = f"Prices cannot be checked right now ({error}); nothing was stored."
    return problem_response(503, "Service Unavailable", detail, headers={"Retry-After": "2"})


def _catalog_malformed(error: MalformedPrice) -> Response:
    detail = f"The catalog's answer cannot be used ({error}); nothing was stored."
    return problem_response(502, "Bad Gateway", detail)


def _breaks_the_event_contract(error: InvalidEvent) -> Response:
    # An order its order.created could not describe (a user name longer than
    # the contract allows): every consumer would dead-letter that event.
    detail = f"The order cannot be told to the other services ({error.reason}); nothing was stored."
    return problem_response(422, "Unprocessable Content", detail)
