import json

import pytest

from catalog.products import MIGRATIONS, find_product, list_products, seed_if_empty
from polyshop_common import db

SEED = {
    "currency": "EUR",
    "products": [
        {"sku": "B-2", "name": "Bee", "price_cents": 200, "stock": 1},
        {"sku": "A-1", "name": "Ant", "price_cents": 100, "stock": 1},
    ],
}


@pytest.fixture
def conn(tmp_path):
    connection = db.connect(tmp_path / "catalog.db")
    db.migrate(connection, MIGRATIONS)
    yield connection
    connection.close()


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "products.json"
    path.write_text(json.dumps(SEED))
    return path


def test_seeding_fills_an_empty_catalog_once(conn, seed_file):
    assert seed_if_empty(conn, seed_file) == 2
    assert seed_if_empty(conn, seed_file) == 0
    assert [p["sku"] for p in list_products(conn)] == ["A-1", "B-2"]


def test_a_product_carries_its_price_and_currency_but_not_its_stock(conn, seed_file):
    seed_if_empty(conn, seed_file)
    assert find_product(conn, "A-1") == {
        "sku": "A-1",
        "name": "Ant",
        "price_cents": 100,
        "currency": "EUR",
    }


def test_an_unknown_sku_is_none(conn):
    assert find_product(conn, "NOPE") is None
