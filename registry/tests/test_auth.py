"""Writes need the registry token; reads do not."""

from __future__ import annotations

import pytest

WRITES = [
    ("post", "/v1/services/catalog/instances"),
    ("put", "/v1/services/catalog/instances/catalog-a/heartbeat"),
    ("delete", "/v1/services/catalog/instances/catalog-a"),
]
BAD_CREDENTIALS = {
    "missing": {},
    "wrong token": {"Authorization": "Bearer not-the-token"},
    "token prefix": {"Authorization": "Bearer test-tok"},
    "other scheme": {"Authorization": "Basic dGVzdC10b2tlbg=="},
    "empty bearer": {"Authorization": "Bearer "},
}


@pytest.mark.parametrize(("method", "path"), WRITES, ids=["register", "heartbeat", "deregister"])
@pytest.mark.parametrize("headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
def test_rejects_write_without_the_registry_token(client, method, path, headers):
    body = {"host": "127.0.0.1", "port": 5001}

    response = client.open(path, method=method.upper(), json=body, headers=headers)

    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="registry"'
    assert client.get("/v1/services").get_json() == {"services": {}}


def test_accepts_a_lowercase_bearer_scheme(client):
    response = client.post(
        "/v1/services/catalog/instances",
        json={"host": "127.0.0.1", "port": 5001},
        headers={"Authorization": "bearer test-token"},
    )

    assert response.status_code == 201


def test_reads_need_no_token(client):
    assert client.get("/v1/services").status_code == 200
    assert client.get("/v1/evictions").status_code == 200
