"""Hostile bodies for POST /orders, the one route that reads a body, sent
through the gateway and to the orders port directly: malformed JSON, other
content types, bodies over 1 MiB, odd unicode and numbers no JSON parser
agrees on, in every field. Each is refused with a problem, never a 5xx."""

from __future__ import annotations

import json

import pytest
import requests

from support.hostile import SERVICE_PATHS, Door, assert_problem, problem_failures

DOORS = ["gateway", "direct"]
MIB = 1024 * 1024
GOOD_LINE = '{"sku": "TEA-EARL-GREY", "quantity": 1}'

MALFORMED_JSON = {
    "truncated": '{"items": [{"sku": "TEA-EARL-GREY", "quantity": 1}',
    "trailing comma": '{"items": [{"sku": "TEA-EARL-GREY", "quantity": 1},]}',
    "single quotes": "{'items': [{'sku': 'TEA-EARL-GREY', 'quantity': 1}]}",
    "two documents": f'{{"items": [{GOOD_LINE}]}}{{"items": [{GOOD_LINE}]}}',
    "comment": f'{{"items": [{GOOD_LINE}]}} // one',
    "nul byte": '{"items": [\x00]}',
    "only whitespace": " \n\t ",
    "empty": "",
    "bare string": '"items"',
    "deep nesting": "[" * 20_000 + "]" * 20_000,  # deeper than Python's parser goes
    "invalid utf-8": b'{"items": [{"sku": "\xff\xfe", "quantity": 1}]}',
    "lone surrogate": '{"items": [{"sku": "\\ud800", "quantity": 1}]}',
    "duplicate keys": f'{{"items": [{GOOD_LINE}], "items": "x"}}',
}

# (Content-Type, a body written in that type): none of them is an order.
WRONG_CONTENT_TYPES = {
    "form": ("application/x-www-form-urlencoded", "items[0][sku]=TEA-EARL-GREY&items[0][qty]=1"),
    "multipart": (
        "multipart/form-data; boundary=xyz",
        '--xyz\r\nContent-Disposition: form-data; name="items"\r\n\r\nTEA-EARL-GREY\r\n--xyz--\r\n',
    ),
    "xml": ("application/xml", "<order><item sku='TEA-EARL-GREY' quantity='1'/></order>"),
    "text": ("text/plain", "TEA-EARL-GREY x1"),
    "yaml": ("application/yaml", "items:\n  - {sku: TEA-EARL-GREY, quantity: 1}\n"),
    "octets": ("application/octet-stream", bytes(range(256))),
}

# Values JSON allows (or parsers accept) that no order field may hold.
HOSTILE_VALUES = {
    "1e309": "1e309",
    "-1e309": "-1e309",
    "2**63": str(2**63),
    "-2**63-1": str(-(2**63) - 1),
    "2**64+1": str(2**64 + 1),
    "10**5000": "1" + "0" * 5000,
    "-0": "-0",
    "-0.0": "-0.0",
    "1.0000000000000001": "1.0000000000000001",
    "5e-324": "5e-324",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "'NaN'": '"NaN"',
    "'1e309'": '"1e309"',
    "true": "true",
    "null": "null",
    "emoji": json.dumps("☕🍵"),
    "right-to-left override": json.dumps("TEA-\u202eYERG-LRAE"),
    "zero-width joiner": json.dumps("TEA\u200d-EARL-GREY"),
    "fullwidth letters": json.dumps("\uff34\uff25\uff21-EARL-GREY"),
    "combining marks": json.dumps("TEA-EARL-GREY\u0301\u0301\u0301"),
    "nul": json.dumps("TEA-EARL-GREY\x00"),
    "newline": json.dumps("TEA-EARL-GREY\n"),
    "10k characters": json.dumps("A" * 10_000),
    "object": '{"$gt": ""}',
    "array": "[1, 2]",
}

# Where a hostile value goes: a body template per field, the value written in raw.
FIELDS = {
    "items": '{"items": %s}',
    "items[0]": '{"items": [%s]}',
    "items[0].sku": '{"items": [{"sku": %s, "quantity": 1}]}',
    "items[0].quantity": '{"items": [{"sku": "TEA-EARL-GREY", "quantity": %s}]}',
    "unknown field": '{"items": [{"sku": "TEA-EARL-GREY", "quantity": 1}], "note": %s}',
}


def post_order(http: requests.Session, door: Door, body: str | bytes, content_type: str | None):
    headers = dict(door.auth)
    if content_type is not None:
        headers["Content-Type"] = content_type
    data = body.encode() if isinstance(body, str) else body
    return http.post(door.url("orders", "/orders"), data=data, headers=headers, timeout=15)


@pytest.mark.parametrize("door_name", DOORS)
@pytest.mark.parametrize("body", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_is_a_400_problem(http, doors, door_name, body):
    response = post_order(http, doors[door_name], body, "application/json")
    assert_problem(response, 400)


@pytest.mark.parametrize("endpoint", ["gateway token", "registry registration"])
@pytest.mark.parametrize("body", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_to_the_other_json_endpoints_is_a_400_problem(
    http, shop, shop_secrets, endpoint, body
):
    registry = f"http://127.0.0.1:{shop.ports.registry}"
    url, headers = {
        "gateway token": (f"{shop.gateway}/auth/token", {}),
        "registry registration": (
            f"{registry}/v1/services/hostile/instances",
            {"Authorization": f"Bearer {shop_secrets.registry_token('hostile')}"},
        ),
    }[endpoint]
    data = body.encode() if isinstance(body, str) else body
    response = http.post(
        url, data=data, headers={**headers, "Content-Type": "application/json"}, timeout=15
    )
    assert_problem(response, 400)
    assert "hostile" not in http.get(f"{registry}/v1/services", timeout=5).json()["services"]


@pytest.mark.parametrize("door_name", DOORS)
@pytest.mark.parametrize(
    ("content_type", "body"), WRONG_CONTENT_TYPES.values(), ids=WRONG_CONTENT_TYPES.keys()
)
def test_a_body_of_another_content_type_is_refused_with_a_problem(
    http, doors, door_name, content_type, body
):
    response = post_order(http, doors[door_name], body, content_type)
    assert response.status_code in (400, 415), response.text[:300]
    assert_problem(response)


def post_alone(url: str, **kwargs) -> requests.Response:
    """POST on a connection of its own. A server that answers 413 without
    reading the body may close the connection even though it announced
    keep-alive (gunicorn's threaded worker does); a pooled connection would
    then fail the next test's request."""
    with requests.Session() as session:
        session.trust_env = False
        return session.post(url, **kwargs)


@pytest.mark.parametrize("chunked", [False, True], ids=["with length", "chunked"])
@pytest.mark.parametrize("door_name", DOORS)
def test_an_order_body_over_one_mebibyte_is_a_413_problem(doors, door_name, chunked):
    body = f'{{"items": [{{"sku": "{"A" * MIB}", "quantity": 1}}]}}'.encode()
    data = (body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)) if chunked else body
    response = post_alone(
        doors[door_name].url("orders", "/orders"),
        data=data,
        headers={**doors[door_name].auth, "Content-Type": "application/json"},
        timeout=30,
    )
    assert_problem(response, 413)


# What each service's own port answers a POST of 1 MiB+ to its path: 413
# where a body is read (orders; the Node.js services read every body), 405
# where the path has no POST and the body is never read.
OVERSIZE_STATUS = {
    "catalog": 405,
    "orders": 413,
    "payments": 405,
    "inventory": 413,
    "notifications": 413,
}


@pytest.mark.parametrize(("service", "status"), OVERSIZE_STATUS.items())
def test_a_body_over_one_mebibyte_at_any_service_port_is_refused_with_a_problem(
    doors, service, status
):
    response = post_alone(
        doors["direct"].url(service, SERVICE_PATHS[service]),
        data=b"{" + b" " * (MIB + 1) + b"}",
        headers={**doors["direct"].auth, "Content-Type": "application/json"},
        timeout=30,
    )
    assert_problem(response, status)


@pytest.mark.parametrize("door_name", DOORS)
@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_unicode_and_huge_numbers_in_any_field_are_a_400_problem(
    http, doors, door_name, field, value
):
    response = post_order(http, doors[door_name], FIELDS[field] % value, "application/json")
    assert not problem_failures(response), problem_failures(response)
    assert response.status_code == 400, response.text[:300]
