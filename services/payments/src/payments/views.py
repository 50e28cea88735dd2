"""GET /payments?order_id=: the caller's payments (a service may read all)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from payments import store
from polyshop_common.flask_db import get_db
from polyshop_common.identity import require_principal
from polyshop_common.problems import Problem

bp = Blueprint("payments", __name__)


@bp.get("/payments")
def list_payments() -> list[dict[str, Any]]:
    principal = require_principal()
    order_id = request.args.get("order_id")
    if order_id is None:
        return store.for_user(get_db(), None if principal.is_service else principal.name)
    found = store.for_order(get_db(), order_id)
    if any(not principal.may_read(payment["user"]) for payment in found):
        # Another user's order is answered as if it did not exist, as orders does.
        raise Problem(404, "Not Found", f"No order {order_id}.")
    return found
