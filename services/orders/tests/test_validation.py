import pytest

from orders.validation import InvalidOrder, Line, parse_order, valid_idempotency_key


def test_accepts_lines_of_sku_and_quantity():
    body = {"items": [{"sku": "TEA-SENCHA", "quantity": 2}, {"sku": "MUG-1", "quantity": 100}]}
    assert parse_order(body) == [Line("TEA-SENCHA", 2), Line("MUG-1", 100)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "(body)"),
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": "TEA"}, "items"),
        ({"items": [{"sku": "TEA", "quantity": 1}], "coupon": "X"}, "coupon"),
        ({"items": [{"sku": "TEA", "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"sku": "TEA", "quantity": 101}]}, "items[0].quantity"),
        ({"items": [{"sku": "TEA", "quantity": "2"}]}, "items[0].quantity"),
        ({"items": [{"sku": "TEA", "quantity": True}]}, "items[0].quantity"),
        ({"items": [{"sku": "TEA", "quantity": 1.5}]}, "items[0].quantity"),
        ({"items": [{"sku": "tea", "quantity": 1}]}, "items[0].sku"),
        ({"items": [{"sku": 7, "quantity": 1}]}, "items[0].sku"),
        ({"items": [{"sku": "TEA", "quantity": 1, "price_cents": 1}]}, "items[0].price_cents"),
        ({"items": ["TEA"]}, "items[0]"),
        ({"items": [{"sku": "TEA", "quantity": 1}, {"sku": "TEA", "quantity": 2}]}, "items[1].sku"),
        ({"items": [{"sku": f"S{i}", "quantity": 1} for i in range(51)]}, "items"),
    ],
)
def test_rejects_a_body_naming_the_field_at_fault(body, field):
    with pytest.raises(InvalidOrder) as raised:
        parse_order(body)
    assert field in [error["field"] for error in raised.value.errors]


@pytest.mark.parametrize(
    ("key", "valid"), [("abc-123", True), ("", False), ("has space", False), ("x" * 201, False)]
)
def test_idempotency_keys_are_short_printable_tokens(key, valid):
    assert valid_idempotency_key(key) is valid
