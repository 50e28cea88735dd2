"""The metrics every Python piece shares (contracts/metrics.json): request
timing by route template, GET /metrics, and the outbox's backlog read from
a real SQLite file."""

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from polyshop_common import db, metrics, outbox
from polyshop_common.events import utc_now

DURATION = "http_server_request_duration_seconds"


@pytest.fixture
def app():
    app = Flask(__name__)

    @app.get("/things/<thing_id>")
    def thing(thing_id):
        return {"id": thing_id}

    metrics.time_requests(app)
    metrics.serve_metrics(app)
    return app


def count(method, route, status):
    labels = {"http_request_method": method, "http_route": route}
    labels["http_response_status_code"] = status
    return REGISTRY.get_sample_value(f"{DURATION}_count", labels) or 0


def test_every_shared_series_is_made_as_the_contract_says():
    for name, spec in metrics.contract()["metrics"].items():
        made = metrics.metric(name)
        assert made is metrics.metric(name)  # made once
        assert list(made._labelnames) == spec["labels"]
        assert made._type == spec["type"]
        if "buckets" in spec:
            assert list(made._upper_bounds[:-1]) == spec["buckets"]


def test_requests_are_counted_by_route_template_and_unmatched_ones_by_no_route(app):
    client = app.test_client()
    before = count("GET", "/things/<thing_id>", "200"), count("GET", "", "404")
    assert client.get("/things/1").status_code == 200
    assert client.get("/things/2").status_code == 200
    assert client.get("/nothing/here").status_code == 404
    after = count("GET", "/things/<thing_id>", "200"), count("GET", "", "404")
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)


def test_metrics_are_served_in_the_text_format(app):
    client = app.test_client()
    client.get("/things/1")
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(answer.get_data(True))}
    assert "http_server_request_duration_seconds" in names


def test_the_outbox_backlog_and_its_oldest_rows_age_are_read_when_scraped(tmp_path):
    path = tmp_path / "service.db"
    conn = db.connect(path)
    db.migrate(conn, [outbox.OUTBOX_TABLES])
    metrics.watch_outbox(path)
    assert gauges() == (0, 0)

    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    with db.transaction(conn):
        for created in (an_hour_ago, utc_now()):
            conn.execute(
                "INSERT INTO outbox (topic, key, value, created_at) VALUES ('t', 'k', '{}', ?)",
                (created,),
            )
    backlog, age = gauges()
    assert backlog == 2
    assert 3590 < age < 3700

    with db.transaction(conn):
        conn.execute("UPDATE outbox SET sent_at = ? WHERE created_at = ?", (utc_now(), an_hour_ago))
    backlog, age = gauges()
    assert backlog == 1 and age < 60
    conn.close()


def gauges():
    return (
        REGISTRY.get_sample_value("polyshop_outbox_backlog_rows"),
        REGISTRY.get_sample_value("polyshop_outbox_oldest_age_seconds"),
    )
