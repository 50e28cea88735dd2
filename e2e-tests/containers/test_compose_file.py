"""What docker-compose.yml, the two Dockerfiles (docker/) and their build
commands promise, checked without starting anything: read as YAML and text,
and through `docker compose config` where the Compose plugin is installed."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from polyshop_dev.kafka import topic_names
from polyshop_dev.pieces import SERVICES
from support.compose import COMPOSE_FILE, PUBLISHED, ROOT, chosen_stack

SPEC = yaml.safe_load(COMPOSE_FILE.read_text())
ALL = SPEC["services"]
# One-shot jobs (the topic set-up) finish; everything else keeps running.
JOBS = {
    name
    for service in ALL.values()
    for name, need in (service.get("depends_on") or {}).items()
    if need["condition"] == "service_completed_successfully"
}
# The observability profile's images: pinned official ones, never pulled
# here (docs/observability.md), published on this machine's loopback only.
OBSERVABILITY = {name for name, service in ALL.items() if service.get("profiles")}
OBSERVABILITY_PUBLISHED = {"jaeger": 16686, "prometheus": 9090, "grafana": 3000}
LONG_RUNNING = sorted(set(ALL) - JOBS - OBSERVABILITY)
# The pieces built from this repository (the secrets job is built too, but runs once).
BUILT = sorted(name for name, service in ALL.items() if "build" in service and name not in JOBS)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(name):
    assert ALL[name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", BUILT)
def test_every_piece_of_ours_is_healthy_only_when_its_readyz_says_so(name):
    assert "/readyz" in " ".join(ALL[name]["healthcheck"]["test"])


def test_no_secret_is_written_in_the_compose_file():
    for name, service in ALL.items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"SECRET|TOKEN|PASSWORD|KEY", variable):
                assert variable.endswith("_FILE"), f"{name}: {variable} is set in the file"
                assert str(value).startswith("/run/secrets/"), f"{name}: {variable}"


@pytest.mark.parametrize("name", BUILT)
def test_every_piece_mounts_only_its_own_secrets_read_only(name):
    mounts = [v for v in ALL[name]["volumes"] if v.startswith("secrets")]
    assert mounts == [f"secrets-{name}:/run/secrets:ro"]
    assert f"secrets-{name}:/secrets/{name}" in ALL["secrets"]["volumes"]
    assert ALL[name]["depends_on"]["secrets"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", BUILT)
def test_every_piece_reads_the_fault_switches_and_only_the_storefront_writes_them(name):
    environment = ALL[name].get("environment") or {}
    assert environment["FAULTS_FILE"] == "/flags/flags.json"
    mounts = [v.split()[0] for v in ALL[name]["volumes"] if v.startswith("flags:")]
    assert mounts == ["flags:/flags" if name == "storefront" else "flags:/flags:ro"]
    assert ALL[name]["depends_on"]["fault-switches"]["condition"] == (
        "service_completed_successfully"
    )


def test_the_gateway_has_no_registry_credential():
    assert not [v for v in ALL["gateway"]["environment"] if v.startswith("REGISTRY_TOKEN")]


# Split so that this file does not hold the marker it looks for.
PRIVATE_KEYS = (b"PRIVATE" + b" KEY-----", b"OPENSSH" + b" PRIVATE")


def test_no_private_key_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    offenders = []
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if path.is_file() and path.stat().st_size < 1_000_000:
            text = path.read_bytes()
            if any(b"-----BEGIN " + kind in text for kind in PRIVATE_KEYS):
                offenders.append(name.decode())
    assert offenders == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_database_lives_in_a_named_volume(name):
    volume, _, target = ALL[name]["volumes"][0].partition(":")
    assert target == "/data"
    assert volume in SPEC["volumes"]


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_image_is_pinned(name):
    image = ALL[name]["image"]
    assert re.fullmatch(r"[a-z0-9./-]+:[A-Za-z0-9._-]+", image), image
    assert not image.endswith(":latest")


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_container_has_an_init_process_and_a_memory_limit(name):
    assert ALL[name]["init"] is True
    assert ALL[name]["mem_limit"]


def test_only_the_gateway_and_kafkas_host_listener_are_published():
    published = {
        name: [int(port.rsplit(":", 2)[-2]) for port in service.get("ports", [])]
        for name, service in ALL.items()
        if service.get("ports") and name not in OBSERVABILITY
    }
    assert published == {name: [port] for name, port in PUBLISHED.items()}


def test_the_observability_profile_is_opt_in_and_published_on_loopback_only():
    assert {"otel-collector", "jaeger", "prometheus", "grafana"} == OBSERVABILITY
    for name in OBSERVABILITY:
        assert ALL[name]["profiles"] == ["observability"], name
        assert not ALL[name].get("depends_on"), name  # nothing waits on an image not tried here
    published = {
        name: [port for port in ALL[name].get("ports", [])] for name in OBSERVABILITY_PUBLISHED
    }
    assert published == {
        name: [f"127.0.0.1:{port}:{port}"] for name, port in OBSERVABILITY_PUBLISHED.items()
    }
    for name in set(ALL) - OBSERVABILITY:
        for need in ALL[name].get("depends_on") or {}:
            assert need not in OBSERVABILITY, f"{name} would need the profile"


def test_start_order_waits_for_health_not_for_a_container_to_exist():
    for name, service in ALL.items():
        for need in (service.get("depends_on") or {}).values():
            assert need["condition"] in ("service_healthy", "service_completed_successfully"), name


def test_kafka_has_a_bounded_heap_and_two_listeners():
    env = ALL["kafka"]["environment"]
    assert "-Xmx" in env["KAFKA_HEAP_OPTS"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "PLAINTEXT_HOST://localhost:9092" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_the_topics_job_creates_the_contracts_topics():
    spec = json.loads((ROOT / "contracts" / "topics.json").read_text())
    script = " ".join(ALL["kafka-topics"]["command"])
    families = re.search(r"for topic in ([^;]+);", script).group(1).split()
    suffixes = [
        shlex.split(s)[0] if s else ""
        for s in re.search(r"for suffix in ([^;]+);", script).group(1).split()
    ]
    redrive = re.search(r"create (\S+) --config cleanup.policy=compact", script).group(1)
    created = {t + end for t in families for end in suffixes} | {redrive}
    assert created == set(topic_names())
    assert f"--partitions {spec['partitions']}" in script


# One Dockerfile per language; every image is one of them with its arguments.
DOCKERFILES = (ROOT / "docker" / "python.Dockerfile", ROOT / "docker" / "node.Dockerfile")


def build_arguments(dockerfile: str) -> dict[str, str | None]:
    """`ARG NAME[=default]` lines: name → default (None: the build must pass it)."""
    found = re.findall(r"^ARG (\w+)(?:=(.*))?$", dockerfile, re.MULTILINE)
    return {name: default or None for name, default in found}


def documented_builds() -> dict[str, list[str]]:
    """The `docker build` commands of docker/README.md, by the image they tag."""
    readme = (ROOT / "docker" / "README.md").read_text()
    commands = [
        shlex.split(line) for line in readme.splitlines() if line.startswith("docker build ")
    ]
    return {command[command.index("-t") + 1]: command for command in commands}


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_every_dockerfile_starts_from_a_pinned_slim_base_and_runs_unprivileged(path):
    dockerfile = path.read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert set(bases) <= {"python:3.12-slim", "node:22-slim"}, bases
    assert len(bases) == 2  # a build stage and a clean runtime stage
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    command = re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE).group(1)
    assert json.loads(command)  # exec form: the piece is PID 1's child, not a shell's
    assert "ARG EXTRA_CA_CERT" in dockerfile


def test_no_piece_has_a_dockerfile_of_its_own():
    folders = [ROOT / "registry", ROOT / "gateway", *ROOT.glob("*services/*")]
    assert [folder for folder in folders if (folder / "Dockerfile").exists()] == []


@pytest.mark.parametrize("name", BUILT)
def test_every_piece_builds_from_a_shared_dockerfile_with_the_arguments_it_declares(name):
    build = ALL[name]["build"]
    assert ROOT / build["dockerfile"] in DOCKERFILES, build["dockerfile"]
    declared = build_arguments((ROOT / build["dockerfile"]).read_text())
    given = build["args"]
    assert set(given) <= set(declared), "an argument the Dockerfile does not read"
    assert {arg for arg, default in declared.items() if default is None} <= set(given)
    assert given["EXTRA_CA_CERT"] == "${EXTRA_CA_CERT:-}"


@pytest.mark.parametrize("name", BUILT)
def test_every_piece_names_its_own_folder_package_and_port(name):
    args = ALL[name]["build"]["args"]
    if "WORKSPACE" in args:
        package = json.loads((ROOT / args["WORKSPACE"] / "package.json").read_text())
        assert package["name"] == f"@polyshop/{name}"
        assert (ROOT / args["WORKSPACE"] / "src" / "server.js").is_file()
    else:
        project = tomllib.loads((ROOT / args["FOLDER"] / "pyproject.toml").read_text())
        assert project["project"]["name"] == args["PACKAGE"] == f"polyshop-{name}"
        # The image names no app on its command line: the settings file does.
        settings = (ROOT / args["FOLDER"] / "gunicorn.conf.py").read_text()
        assert f'wsgi_app = "{name}.wsgi:app"' in settings
    published = [port.rsplit(":", 1)[-1] for port in ALL[name].get("ports", [])]
    assert all(port == str(args["PORT"]) for port in published)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_image_keeps_its_database_in_data_and_has_the_contracts(name):
    build = ALL[name]["build"]
    dockerfile = (ROOT / build["dockerfile"]).read_text()
    if "DATA_DIR" in build_arguments(dockerfile):  # only some Python pieces keep data
        assert (build["args"]["DATA_DIR"], build["args"]["CONTRACTS"]) == ("/data", "yes")
    else:
        assert "DATA_DIR=/data" in dockerfile
        assert "CONTRACTS_DIR=/app/contracts" in dockerfile


@pytest.mark.parametrize("name", BUILT)
def test_docker_readme_builds_each_piece_alone_as_compose_does(name):
    build = ALL[name]["build"]
    command = documented_builds()[ALL[name]["image"]]
    assert command[command.index("-f") + 1] == build["dockerfile"]
    assert command[-1] == build["context"]
    documented = dict(
        command[at + 1].split("=", 1) for at, word in enumerate(command) if word == "--build-arg"
    )
    given = {arg: str(value) for arg, value in build["args"].items() if arg != "EXTRA_CA_CERT"}
    assert documented == given


def test_docker_compose_config_is_clean():
    if shutil.which("docker") is None or _compose_missing():
        if chosen_stack() == "compose":
            pytest.fail("E2E_STACK=compose but `docker compose` is not installed")
        pytest.skip("the Docker Compose plugin is not installed")
    for profile in ([], ["--profile", "observability"]):
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), *profile, "config", "--quiet"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""


def _compose_missing() -> bool:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    return probe.returncode != 0


def test_the_readme_promises_what_the_compose_backed_tests_check():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Docker\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.strip().splitlines() if line.strip()]
    assert len(lines) <= 3, lines
    scaled = yaml.safe_load((Path(__file__).with_name("scaled.compose.yml")).read_text())
    replicas = scaled["services"]["inventory"]["deploy"]["replicas"]
    assert f"--scale inventory={replicas}" in section
    assert f"http://localhost:{PUBLISHED['gateway']}/" in section


def test_the_compose_file_needs_no_editing_before_the_first_run():
    # Every ${VAR} has a default, so `docker compose up` works with no .env.
    for match in re.finditer(r"\$\{([^}]*)\}", COMPOSE_FILE.read_text()):
        assert ":-" in match.group(1), match.group(0)


def test_images_are_built_from_the_repository_root():
    for name in BUILT:
        build = ALL[name]["build"]
        assert Path(build["context"]) == Path("."), name
        assert (ROOT / build["dockerfile"]).is_file(), name
