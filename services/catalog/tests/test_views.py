import json

import pytest

from catalog.config import Settings
from polyshop_common.testing import DEVELOPMENT_ENV


@pytest.fixture
def seed(contracts_dir):
    return json.loads((contracts_dir / "seed" / "products.json").read_text())


def test_lists_every_seeded_product(client, seed):
    response = client.get("/products")
    assert response.status_code == 200
    assert {p["sku"] for p in response.json} == {p["sku"] for p in seed["products"]}
    assert set(response.json[0]) == {"sku", "name", "price_cents", "currency"}


def test_returns_one_product_by_sku(client, seed):
    first = seed["products"][0]
    response = client.get(f"/products/{first['sku']}")
    assert response.json["price_cents"] == first["price_cents"]


def test_rejects_an_unknown_sku_with_a_404_problem(client):
    response = client.get("/products/NOPE")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json["sku"] == "NOPE"


def test_livez_answers_and_readyz_waits_for_registration(client):
    assert client.get("/livez").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": True, "registered": False}


def test_settings_come_from_the_environment_with_defaults():
    settings = Settings.from_env(DEVELOPMENT_ENV | {"PORT": "5101", "DATA_DIR": "/tmp/x"})
    assert (settings.port, settings.registry_url) == (5101, "http://127.0.0.1:8761")
    assert settings.database("catalog").as_posix() == "/tmp/x/catalog.db"
