"""GET /products and GET /products/{sku}: public reads of the catalog."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from catalog.products import find_product, list_products
from polyshop_common import faults
from polyshop_common.flask_db import get_db
from polyshop_common.problems import Problem

bp = Blueprint("products", __name__)


@bp.get("/products")
def products() -> list[dict[str, Any]]:
    return [as_sent(found) for found in list_products(get_db())]


@bp.get("/products/<sku>")
def product(sku: str) -> dict[str, Any]:
    found = find_product(get_db(), sku)
    if found is None:
        raise Problem(404, "Not Found", f"No product has the sku {sku!r}.", sku=sku)
    return as_sent(found)


def as_sent(found: dict[str, Any]) -> dict[str, Any]:
    """The product, or with the `malformed-price` fault switch on, its price
    in currency units (12.99) where whole cents (1299) are the contract."""
    if faults.on(faults.MALFORMED_PRICE):
        return found | {"price_cents": found["price_cents"] / 100}
    return found
