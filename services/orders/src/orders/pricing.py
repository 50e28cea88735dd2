"""Current prices from the catalog, asked through client-side discovery.

`CatalogPrices` calls a catalog instance from the registry client's cache
(with a timeout, and one retry on another instance, in ServiceClient). An
unknown sku is the caller's mistake; an unreachable catalog is ours (503),
and so is an answer that breaks the catalog's contract (502).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from polyshop_common.http_client import ServiceClient, ServiceUnavailable


class UnknownSkus(ValueError):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"unknown sku: {', '.join(skus)}")
        self.skus = skus


class MalformedPrice(ServiceUnavailable):
    """The catalog answered, but not as its contract says: nothing can be priced."""


class Prices(Protocol):
    def lookup(self, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each sku's product (price_cents, currency); UnknownSkus if any is missing."""
        ...


class CatalogPrices:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def lookup(self, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
        response = self.client.get("/products")
        if response.status_code != 200:
            raise ServiceUnavailable(f"catalog answered {response.status_code}")
        return pick(response.json(), skus)


def pick(products: list[dict[str, Any]], skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    by_sku = {product["sku"]: product for product in products}
    wanted = list(skus)
    missing = [sku for sku in wanted if sku not in by_sku]
    if missing:
        raise UnknownSkus(missing)
    for sku in wanted:
        check_price(by_sku[sku])
    return {sku: by_sku[sku] for sku in wanted}


def check_price(product: dict[str, Any]) -> None:
    """Prices are whole cents: an order total made of anything else would be wrong."""
    price = product.get("price_cents")
    if type(price) is not int or price < 0 or not isinstance(product.get("currency"), str):
        raise MalformedPrice(f"catalog sent price_cents {price!r} for {product['sku']}")
