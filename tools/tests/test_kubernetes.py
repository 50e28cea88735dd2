"""deploy/kubernetes: every overlay builds with kustomize, validates against
the pinned Kubernetes version's schemas, and keeps the policy; the policy
catches what it claims to; the Secrets hold what the pods mount."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from polyshop_dev import kubernetes, secrets
from polyshop_dev.kubernetes import DEPLOY, OVERLAYS, build, policy_violations, schema_errors
from polyshop_dev.paths import ROOT


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict[str, Any]]]:
    return request.param, build(DEPLOY / "overlays" / request.param)


def objects_of(objects: list[dict], kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def pieces(objects: list[dict]) -> dict[str, dict]:
    """Each piece of the shop by name: its Deployment or StatefulSet."""
    return {
        obj["metadata"]["name"]: obj
        for obj in objects
        if obj["kind"] in ("Deployment", "StatefulSet")
        and obj["metadata"]["labels"].get("app.kubernetes.io/component") == "piece"
    }


def main_container(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]["containers"][0]


def test_every_object_validates_against_the_pinned_kubernetes_schemas(overlay):
    _, objects = overlay
    assert schema_errors(objects) == []


def test_every_container_keeps_the_policy(overlay):
    _, objects = overlay
    assert policy_violations(objects) == []


def test_every_object_is_in_the_shops_namespace(overlay):
    _, objects = overlay
    outside = [
        kubernetes.name_of(o)
        for o in objects
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != "polyshop"
    ]
    assert outside == []


def test_every_piece_of_compose_is_deployed_with_the_same_image(overlay):
    _, objects = overlay
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    wanted = {
        name: service["image"]
        for name, service in compose.items()
        if "profiles" not in service and name not in ("secrets", "fault-switches", "kafka-topics")
    }
    deployed = {name: main_container(w)["image"] for name, w in pieces(objects).items()}
    deployed["kafka"] = main_container(objects_of(objects, "StatefulSet")["kafka"])["image"]
    assert deployed == wanted


def test_pieces_register_their_pod_address_and_are_probed_on_readyz_and_livez(overlay):
    _, objects = overlay
    for name, workload in pieces(objects).items():
        container = main_container(workload)
        env = {e["name"]: e for e in container["env"]}
        assert env["ADVERTISED_HOST"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez", name
        port = container["readinessProbe"]["httpGet"]["port"]
        assert port in {p["name"] for p in container["ports"]}, name


def test_each_piece_mounts_only_its_own_secret_and_finds_every_file_it_names(overlay, tmp_path):
    _, objects = overlay
    made = {s["metadata"]["name"]: s for s in kubernetes.kubernetes_secrets(tmp_path / "s")}
    assert schema_errors(list(made.values())) == []
    for name, workload in pieces(objects).items():
        volumes = workload["spec"]["template"]["spec"]["volumes"]
        mounted = [v["secret"]["secretName"] for v in volumes if "secret" in v]
        assert mounted == [f"polyshop-{name}"]
        env = main_container(workload)["env"]
        files = {e["name"]: e["value"] for e in env if e["name"].endswith("_FILE")}
        # The same settings as `make up` and compose give the piece (polyshop_dev.secrets).
        expected = secrets.piece_env(name, Path("/x"))
        assert {k: Path(v).name for k, v in files.items()} == {
            k: Path(v).name for k, v in expected.items()
        }
        assert all(path.startswith("/run/secrets/") for path in files.values())
        assert {Path(v).name for v in files.values()} <= set(made[f"polyshop-{name}"]["data"])


def test_the_load_balancer_component_replaces_the_ingress(tmp_path):
    with_component = tmp_path / "lb"
    with_component.mkdir()
    (with_component / "kustomization.yaml").write_text(
        json.dumps(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [relative(DEPLOY / "overlays" / "dev", with_component)],
                "components": [relative(DEPLOY / "components" / "load-balancer", with_component)],
            }
        )
    )
    objects = build(with_component)
    assert objects_of(objects, "Ingress") == {}
    assert objects_of(objects, "Service")["gateway"]["spec"]["type"] == "LoadBalancer"
    assert schema_errors(objects) == []


def relative(target: Path, start: Path) -> str:
    """Kustomize takes no absolute path to another kustomization."""
    return os.path.relpath(target, start)


# The policy itself: each rule fails a container that breaks it.
GOOD = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "good"},
    "spec": {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {
            "metadata": {"labels": {"a": "b"}},
            "spec": {
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                "containers": [
                    {
                        "name": "good",
                        "image": "polyshop/good:1.0",
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "64Mi"},
                            "limits": {"cpu": "1", "memory": "128Mi"},
                        },
                        "securityContext": {
                            "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "env": [{"name": "SESSION_SECRET_FILE", "value": "/run/secrets/s"}],
                    }
                ],
            },
        },
    },
}


def broken(change) -> list[str]:
    obj = copy.deepcopy(GOOD)
    change(obj["spec"]["template"]["spec"], obj["spec"]["template"]["spec"]["containers"][0])
    return policy_violations([obj])


def test_the_policy_passes_a_container_that_keeps_it():
    assert schema_errors([GOOD]) == []
    assert policy_violations([GOOD]) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda pod, c: c.update(image="polyshop/good:latest"), "not pinned"),
        (lambda pod, c: c.update(image="polyshop/good"), "not pinned"),
        (lambda pod, c: c["resources"].pop("limits"), "no limits for cpu, memory"),
        (lambda pod, c: c["resources"]["requests"].pop("memory"), "no requests for memory"),
        (lambda pod, c: pod["securityContext"].pop("runAsNonRoot"), "may run as root"),
        (lambda pod, c: pod["securityContext"].update(runAsUser=0), "may run as root"),
        (lambda pod, c: c["securityContext"].update(runAsNonRoot=False), "may run as root"),
        (lambda pod, c: c["securityContext"].pop("readOnlyRootFilesystem"), "writable"),
        (lambda pod, c: c["securityContext"].pop("allowPrivilegeEscalation"), "escalation"),
        (lambda pod, c: c["securityContext"].update(capabilities={}), "capabilities"),
        (
            lambda pod, c: c["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
            "capabilities",
        ),
        (lambda pod, c: c["env"].append({"name": "OPERATOR_TOKEN", "value": "x"}), "a Secret"),
        (
            lambda pod, c: pod.update(initContainers=[{"name": "init", "image": "busybox:1"}]),
            "container init: no limits",
        ),
    ],
)
def test_the_policy_fails_a_container_that_breaks_it(change, why):
    violations = broken(change)
    assert len(violations) >= 1
    assert any(why in violation for violation in violations), violations


def test_the_policy_fails_a_secret_or_a_secret_in_a_config_map():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    config["data"] = {"REGISTRY_TOKEN": "x", "LOG_LEVEL": "info"}
    assert policy_violations([secret, config]) == [
        "Secret/s: a Secret in the manifests",
        "ConfigMap/c: REGISTRY_TOKEN looks like a secret; it belongs in a Secret",
    ]


def test_the_schemas_refuse_a_misspelt_field():
    obj = copy.deepcopy(GOOD)
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert len(schema_errors([obj])) == 1


def config(objects: list[dict], name: str) -> dict[str, str]:
    """The data of the generated ConfigMap `name` (kustomize adds a hash to its name)."""
    [data] = [
        o["data"]
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].rsplit("-", 1)[0] == name
    ]
    return data


def test_the_kafka_quorum_names_every_broker_and_no_more(overlay):
    _, objects = overlay
    brokers = objects_of(objects, "StatefulSet")["kafka"]["spec"]["replicas"]
    kafka = config(objects, "kafka")
    voters = kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert voters == [f"{i}@kafka-{i}.kafka-brokers:9093" for i in range(brokers)]
    copies = int(kafka["KAFKA_DEFAULT_REPLICATION_FACTOR"])
    assert copies == brokers
    assert int(kafka["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == copies
    # One broker lost still leaves enough copies to acknowledge a write.
    assert int(kafka["KAFKA_MIN_INSYNC_REPLICAS"]) == max(copies - 1, 1)


def test_every_registry_address_the_clients_know_is_a_registry_pod(overlay):
    _, objects = overlay
    registries = objects_of(objects, "StatefulSet")["registry"]["spec"]["replicas"]
    addresses = config(objects, "shop")["REGISTRY_URL"].split(",")
    pods = [f"http://registry-{i}.registry-peers:8761" for i in range(registries)]
    assert addresses in (pods, ["http://registry:8761"])


def test_ha_has_no_single_point_among_the_pieces_without_a_database():
    objects = build(DEPLOY / "overlays" / "ha")
    stateful = objects_of(objects, "StatefulSet")
    replicated = {
        "gateway": objects_of(objects, "Deployment")["gateway"],
        "registry": stateful["registry"],
        "kafka": stateful["kafka"],
    }
    budgets = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for b in objects_of(objects, "PodDisruptionBudget").values()
    }
    for name, workload in replicated.items():
        assert workload["spec"]["replicas"] >= 2, name
        assert name in budgets, name
        anti = workload["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        assert name in json.dumps(anti), name
    # Registries side by side know each other: the same list as the clients.
    env = {e["name"]: e for e in main_container(stateful["registry"])["env"]}
    assert env["REGISTRY_PEERS"]["valueFrom"]["configMapKeyRef"]["key"] == "REGISTRY_URL"
    [autoscaler] = objects_of(objects, "HorizontalPodAutoscaler").values()
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert autoscaler["spec"]["minReplicas"] >= 2
