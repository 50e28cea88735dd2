"""POST /orders, GET /orders and GET /orders/{id}: thin views over placing and the store."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from orders import context, placing, store
from orders.validation import MAX_LIMIT, MIN_LIMIT, parse_limit, parse_order, valid_idempotency_key
from polyshop_common.body import read_body
from polyshop_common.flask_db import get_db
from polyshop_common.identity import require_principal
from polyshop_common.problems import Problem

bp = Blueprint("orders", __name__)


@bp.post("/orders")
def create_order() -> Response:
    principal = require_principal()
    lines = parse_order(_json_body())
    order_request = placing.Request(principal.name, lines, _idempotency_key())
    conn = get_db()
    order = placing.replay(conn, order_request)
    if order is None:
        orders = context.current()
        products = orders.prices.lookup(line.sku for line in lines)
        order, created = placing.place(conn, orders.contracts, order_request, products)
        if created:
            orders.wake_relay()
    response = jsonify(order)
    response.status_code = 202  # accepted: the saga decides CONFIRMED or CANCELLED
    prefix = request.headers.get("X-Forwarded-Prefix", "").rstrip("/")
    response.headers["Location"] = f"{prefix}/orders/{order['id']}"
    return response


@bp.get("/orders")
def list_orders() -> list[dict[str, Any]]:
    principal = require_principal()
    if principal.is_service:
        # A service places no orders, so it has no "own" ones; and nothing
        # needs every user's orders at once, so that is not offered either.
        detail = "A service has no orders of its own; read one order by its id."
        raise Problem(403, "Forbidden", detail)
    limit = parse_limit(request.args.get("limit"))
    if limit is None:
        message = f"expected a whole number from {MIN_LIMIT} to {MAX_LIMIT}"
        errors = [{"field": "limit", "message": message}]
        raise Problem(400, "Bad Request", f"limit: {message}.", errors=errors)
    return store.orders_of(get_db(), principal.name, limit)


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, Any]:
    principal = require_principal()
    order = store.get_order(get_db(), order_id)
    if order is None or not principal.may_read(order["user"]):
        # Another user's order is answered as if it did not exist.
        raise Problem(404, "Not Found", f"No order {order_id}.")
    return order


def _json_body() -> Any:
    try:
        return json.loads(read_body() or b"")  # 413 above 1 MiB, as at the gateway
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise Problem(400, "Bad Request", f"The body is not valid JSON: {error}.") from None


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not valid_idempotency_key(key):
        detail = "Idempotency-Key must be 1 to 200 printable ASCII characters without spaces."
        raise Problem(400, "Bad Request", detail)
    return key
