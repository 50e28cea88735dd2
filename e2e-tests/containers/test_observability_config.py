"""The observability profile's configuration (deploy/observability/), checked
without its images, which are not pulled here: Prometheus' with promtool
(its scrape config, and every dashboard query as PromQL), the Collector's
pipelines and Grafana's provisioning against what they name, and every
series a dashboard reads against what the pieces serve."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from gateway import metrics as gateway_metrics
from gateway.config import Config
from polyshop_dev import promtool
from registry import metrics as registry_metrics
from support.compose import COMPOSE_FILE, ROOT

FOLDER = ROOT / "deploy" / "observability"
SERVICES = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
PROMETHEUS = FOLDER / "prometheus.yml"
COLLECTOR = yaml.safe_load((FOLDER / "otel-collector.yaml").read_text())
DASHBOARDS = sorted((FOLDER / "grafana" / "dashboards").glob("*.json"))
SERIES = re.compile(r"\b(?:http_server|messaging|polyshop)_\w+")
# Where a query names labels, not series: `by (...)` and `{...}`.
LABELS = re.compile(r"\bby \([^)]*\)|\{[^}]*\}")


def served_series() -> set[str]:
    """Every series name a piece serves, as Prometheus stores it."""
    contract = json.loads((ROOT / "contracts" / "metrics.json").read_text())["metrics"]
    kinds = {name: spec["type"] for name, spec in contract.items()}
    for module in (gateway_metrics, registry_metrics):
        for value in vars(module).values():
            if not isinstance(value, (MetricWrapperBase, registry_metrics.Instances)):
                continue  # not a metric (a name the module imported)
            for family in value.collect():
                suffix = "_total" if family.type == "counter" else ""
                kinds[family.name + suffix] = family.type
    names = set()
    for name, kind in kinds.items():
        names |= (
            {f"{name}_{part}" for part in ("bucket", "count", "sum")}
            if kind == "histogram"
            else {name}
        )
    return names


def queries(path) -> list[str]:
    dashboard = json.loads(path.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_prometheus_reads_its_configuration():
    result = promtool.run("check", "config", str(PROMETHEUS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_every_piece_on_the_port_it_serves_metrics_on():
    config = yaml.safe_load(PROMETHEUS.read_text())
    scraped = {
        (name, target["port"])
        for job in config["scrape_configs"]
        for target in job["dns_sd_configs"]
        for name in target["names"]
    }
    ours = {
        name: int(service["build"]["args"]["PORT"])
        for name, service in SERVICES.items()
        if "build" in service and int(service["build"]["args"]["PORT"])
    }
    ours["gateway"] = Config().metrics_port  # not its public port
    assert scraped == set(ours.items())


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_every_dashboard_query_is_promql_that_reads_served_series(path, tmp_path):
    found = queries(path)
    assert found
    rules = tmp_path / "rules.yml"
    records = [{"record": f"panel:{i}", "expr": expr} for i, expr in enumerate(found)]
    rules.write_text(yaml.safe_dump({"groups": [{"name": path.stem, "rules": records}]}))
    result = promtool.run("check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr
    read = {name for expr in found for name in SERIES.findall(LABELS.sub("", expr))}
    assert read - served_series() == set()


def test_the_dashboard_shows_what_an_operator_looks_at_first():
    read = " ".join(queries(FOLDER / "grafana" / "dashboards" / "polyshop.json"))
    for series in (
        "http_server_request_duration_seconds_count",  # rate and errors
        "http_server_request_duration_seconds_bucket",  # duration
        "polyshop_consumer_lag_records",
        "polyshop_outbox_backlog_rows",
        "polyshop_gateway_breaker_state",
        "polyshop_registry_instances",
    ):
        assert series in read, series


def test_grafana_provisions_every_data_source_the_dashboards_name():
    provisioned = yaml.safe_load(
        (FOLDER / "grafana" / "provisioning" / "datasources" / "datasources.yaml").read_text()
    )
    uids = {source["uid"] for source in provisioned["datasources"]}
    for path in DASHBOARDS:
        named = set(re.findall(r'"uid": "([^"]+)"', path.read_text())) - {
            json.loads(path.read_text())["uid"]
        }
        assert named <= uids, path.name
    grafana = SERVICES["grafana"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"])
    folder = next(path for path, target in mounts.items() if home.startswith(target))
    assert (ROOT / folder / home.rsplit("/", 1)[1]).is_file()


def test_the_collector_takes_what_the_pieces_send_and_passes_it_to_jaeger():
    defined = {
        kind: set(COLLECTOR.get(kind) or {}) for kind in ("receivers", "processors", "exporters")
    }
    for pipeline in COLLECTOR["service"]["pipelines"].values():
        for kind, names in pipeline.items():
            assert set(names) <= defined[kind], (kind, names)
    endpoint = SERVICES["orders"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    host, port = endpoint.removeprefix("http://").split(":")
    assert host in SERVICES
    assert COLLECTOR["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(f":{port}")
    exported = {exporter["endpoint"].split(":")[0] for exporter in COLLECTOR["exporters"].values()}
    assert exported == {"jaeger"}
