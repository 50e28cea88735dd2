"""The Kubernetes manifests (deploy/kubernetes/): built, checked, and given their secrets.

    python -m polyshop_dev.kubernetes build dev      # the overlay's objects, as kubectl gets them
    python -m polyshop_dev.kubernetes check          # every overlay: schemas and policy
    python -m polyshop_dev.kubernetes secrets | kubectl apply -f -

`secrets` generates the shop's secrets once (as `make up` does, into
.run/kubernetes-secrets, never committed) and prints one Secret per piece,
holding only that piece's files: the manifests name the Secrets, never
their values.

Kustomize is built from the Go module proxy into .cache on first use; the
schemas are kubernetes-validate's, for the Kubernetes version pinned here.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from polyshop_dev import secrets as shop_secrets
from polyshop_dev.paths import CACHE, ROOT, RUN

DEPLOY = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "ha")
KUSTOMIZE = "sigs.k8s.io/kustomize/kustomize/v5@v5.7.1"
# The oldest Kubernetes the manifests are for: its schemas check them.
KUBERNETES_VERSION = "1.33.0"
NAMESPACE = "polyshop"
SECRETS_DIR = RUN / "kubernetes-secrets"
BUILD_SECONDS = 300  # the first build downloads kustomize's modules

# The kinds whose objects hold a pod template, and where it is.
POD_TEMPLATES = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
# Environment variables whose literal value would be a secret in the manifests.
SECRET_NAMES = ("SECRET", "TOKEN", "PASSWORD", "PRIVATE_KEY", "SIGNING_KEY", "CREDENTIALS")


def kustomize() -> Path:
    """kustomize, built once into .cache with the machine's Go."""
    version = KUSTOMIZE.rsplit("@", 1)[1]
    binary = CACHE / "kustomize" / version / "kustomize"
    if not binary.exists():
        env = os.environ | {"GOBIN": str(binary.parent)}
        built = subprocess.run(
            ["go", "install", KUSTOMIZE],
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_SECONDS,
        )
        if built.returncode != 0:
            raise RuntimeError(f"go install {KUSTOMIZE} failed:\n{built.stderr[-4000:]}")
    return binary


def build(folder: Path) -> list[dict[str, Any]]:
    """The objects `kustomize build folder` makes (`kubectl apply -k` makes the same)."""
    built = subprocess.run(
        [str(kustomize()), "build", str(folder)], capture_output=True, text=True, timeout=60
    )
    if built.returncode != 0:
        raise RuntimeError(f"kustomize build {folder} failed:\n{built.stderr}")
    return [each for each in yaml.safe_load_all(built.stdout) if each]


def name_of(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def schema_errors(objects: list[dict[str, Any]]) -> list[str]:
    """What the Kubernetes API would refuse: each object against its kind's
    schema, strictly (an unknown field, a typo, is an error too)."""
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path)
            errors.append(f"{name_of(obj)}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{name_of(obj)}: {error.message}")
    return errors


def pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if obj["kind"] == "Pod":
        yield obj["spec"]
    elif path := POD_TEMPLATES.get(obj["kind"]):
        template = obj
        for key in path:
            template = template[key]
        yield template["spec"]


def policy_violations(objects: list[dict[str, Any]]) -> list[str]:
    """What the shop's manifests promise of every container (docs/kubernetes.md):
    a pinned image, requests and limits, not root, a read-only root
    filesystem, no capability and no privilege escalation; and no secret
    in the manifests themselves."""
    found = []
    for obj in objects:
        if obj["kind"] == "Secret":
            found.append(f"{name_of(obj)}: a Secret in the manifests")
        if obj["kind"] == "ConfigMap":
            found += [
                f"{name_of(obj)}: {key} looks like a secret; it belongs in a Secret"
                for key in obj.get("data", {})
                if looks_secret(key)
            ]
        for spec in pod_specs(obj):
            pod_security = spec.get("securityContext", {})
            for container in spec.get("initContainers", []) + spec["containers"]:
                where = f"{name_of(obj)} container {container['name']}"
                why_not = container_violations(container, pod_security)
                found += [f"{where}: {why}" for why in why_not]
    return found


def container_violations(container: dict[str, Any], pod_security: dict[str, Any]) -> list[str]:
    found = []
    image = container.get("image", "")
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if "@sha256:" not in image and tag in ("", "latest"):
        found.append(f"image {image!r} is not pinned to a version")
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        missing = {"cpu", "memory"} - set(resources.get(kind, {}))
        if missing:
            found.append(f"no {kind} for {', '.join(sorted(missing))}")
    security = pod_security | container.get("securityContext", {})
    if security.get("runAsNonRoot") is not True or security.get("runAsUser", 1) == 0:
        found.append("may run as root (runAsNonRoot is not true)")
    if security.get("readOnlyRootFilesystem") is not True:
        found.append("its root filesystem is writable")
    if security.get("allowPrivilegeEscalation") is not False:
        found.append("allows privilege escalation")
    capabilities = security.get("capabilities", {})
    if "ALL" not in capabilities.get("drop", []) or capabilities.get("add"):
        found.append("keeps or adds capabilities (drop ALL, add none)")
    for variable in container.get("env", []):
        if "value" in variable and looks_secret(variable["name"]):
            found.append(f"{variable['name']} has its value in the manifest, not in a Secret")
    return found


def looks_secret(name: str) -> bool:
    """A variable named like a secret, but for NAME_FILE: the path of one."""
    return not name.endswith("_FILE") and any(part in name for part in SECRET_NAMES)


def kubernetes_secrets(folder: Path, namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """One Secret per piece, `polyshop-PIECE`, with that piece's files of
    `polyshop_dev.secrets` as its keys (each pod mounts its own at /run/secrets)."""
    shop_secrets.generate(folder)
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": f"polyshop-{piece}",
                "namespace": namespace,
                "labels": {"app.kubernetes.io/part-of": "polyshop"},
            },
            "type": "Opaque",
            "data": {
                path.name: base64.b64encode(path.read_bytes()).decode()
                for path in sorted((folder / piece).iterdir())
            },
        }
        for piece in shop_secrets.LANGUAGES
    ]


def check() -> int:
    failed = 0
    for overlay in OVERLAYS:
        objects = build(DEPLOY / "overlays" / overlay)
        problems = schema_errors(objects) + policy_violations(objects)
        for problem in problems:
            print(f"{overlay}: {problem}")
        print(f"{overlay}: {len(objects)} objects, {len(problems)} problems")
        failed += len(problems)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m polyshop_dev.kubernetes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    built = sub.add_parser("build", help="print an overlay's objects")
    built.add_argument("overlay", choices=OVERLAYS)
    sub.add_parser("check", help="check every overlay against the schemas and the policy")
    made = sub.add_parser("secrets", help="print one Secret per piece, for kubectl apply -f -")
    made.add_argument("--namespace", default=NAMESPACE)
    made.add_argument("--dir", type=Path, default=SECRETS_DIR)
    args = parser.parse_args(argv)
    if args.command == "check":
        return check()
    if args.command == "build":
        objects = build(DEPLOY / "overlays" / args.overlay)
    else:
        objects = kubernetes_secrets(args.dir, args.namespace)
    json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
