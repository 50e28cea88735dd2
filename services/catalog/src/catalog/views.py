"""GET /products and GET /products/{sku}: public reads of the catalog."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from catalog.products import find_product, list_products
from polyshop_common.flask_db import get_db
from polyshop_common.problems import Problem

bp = Blueprint("products", __name__)


@bp.get("/products")
def products() -> list[dict[str, Any]]:
    return list_products(get_db())


@bp.get("/products/<sku>")
def product(sku: str) -> dict[str, Any]:
    found = find_product(get_db(), sku)
    if found is None:
        raise Problem(404, "Not Found", f"No product has the sku {sku!r}.", sku=sku)
    return found
