"""Gateway benchmark: direct vs through the gateway vs through nginx.

    .venv/bin/python gateway/bench/run.py [--seconds 5] [--rounds 7]

Starts its own registry, trivial upstream, gateway and nginx on free loopback
ports, measures the same upstream endpoint four ways in interleaved rounds
with wrk (32 connections for throughput, 1 for latency): direct, through the
gateway on a public route, through the gateway on a route that needs a
user's token (sent with every request, checked by the gateway every time),
and through nginx. It stops everything it started, prints a table and
writes docs/benchmarks/gateway.md. Installs wrk and nginx-light from
Debian's packages first if they are missing. Extra
arguments for the gateway's gunicorn (to compare worker models) go after
`--gateway-args`, e.g. `--gateway-args="--worker-class gevent"`.

A round in which any target's throughput fell below 0.8 x that target's
median was disturbed (by the machine, or by the load generator that shares
it): it is run again, every target of it, at most `--reruns` times in all,
and the report says which rounds were and why.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests

from polyshop_common.registry import Registration, RegistryApi
from polyshop_dev import secrets
from polyshop_dev.pieces import free_port

sys.path.insert(0, str(Path(__file__).parent))
from report import write_report
from wrk import disturbed, median, run_wrk

REPO = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).resolve().parent
GUNICORN = str(REPO / ".venv/bin/gunicorn")
ROUTES = """routes:
  - {prefix: /api/bench, service: bench, auth: false, rate_limit: null}
  - {prefix: /api/signed, service: bench, auth: true, rate_limit: null}
"""
NGINX_CONF = """
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    upstream bench {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{nginx};
        location /api/ {{
            proxy_pass http://bench/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def ensure_tools() -> None:
    if shutil.which("wrk") and (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        return
    print("installing wrk and nginx-light from Debian's packages", flush=True)
    apt = ["apt-get", "install", "-y", "--no-install-recommends", "nginx-light", "wrk"]
    if subprocess.run(apt, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}).returncode:
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(apt, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def start(stack: ExitStack, command: list[str], log: Path, **env: str) -> None:
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    stack.callback(stop, process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def wait_ok(url: str, timeout: float = 30, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=1, headers=headers).ok:
                return
        except requests.RequestException:
            # Not yet, also on a timeout: gunicorn's master has bound the port
            # but its worker is still starting, so the connection waits unanswered.
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer in {timeout} s")
        time.sleep(0.1)


def start_all(
    stack: ExitStack, tmp: Path, gateway_args: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    names = ("registry", "upstream", "gateway", "gateway_metrics", "nginx")
    ports = {name: free_port() for name in names}
    registry = f"http://127.0.0.1:{ports['registry']}"
    keys = secrets.generate(tmp / "secrets", {"bench": ["bench"]})
    start(
        stack,
        [GUNICORN, "-c", "registry/gunicorn.conf.py", "registry.wsgi:app"],
        tmp / "registry.log",
        PORT=str(ports["registry"]),
        POLYSHOP_MODE="development",
        **secrets.piece_env("registry", keys),
    )
    start(
        stack,
        [
            GUNICORN,
            "--chdir",
            str(BENCH),
            "-b",
            f"127.0.0.1:{ports['upstream']}",
            "-w",
            "2",
            "-k",
            "gthread",
            "--threads",
            "8",
            "upstream_app:app",
        ],
        tmp / "upstream.log",
    )
    (tmp / "routes.yaml").write_text(ROUTES)
    start(
        stack,
        [GUNICORN, "-c", "gateway/gunicorn.conf.py", *gateway_args, "gateway.wsgi:app"],
        tmp / "gateway.log",
        PORT=str(ports["gateway"]),
        METRICS_PORT=str(ports["gateway_metrics"]),
        REGISTRY_URL=registry,
        GATEWAY_ROUTES_FILE=str(tmp / "routes.yaml"),
        POLYSHOP_MODE="development",
        AUTH_ISSUER=f"http://127.0.0.1:{ports['gateway']}",
        **secrets.piece_env("gateway", keys),
    )
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, **ports))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    start(
        stack,
        [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        tmp / "nginx.log",
    )
    wait_ok(registry + "/v1/services")
    registration = Registration(
        RegistryApi(registry, token=secrets.read(keys, "bench", "registry-token")),
        "bench",
        "127.0.0.1",
        ports["upstream"],
    )
    registration.start()
    stack.callback(registration.close)
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    urls = {
        "direct": f"http://127.0.0.1:{ports['upstream']}/bench/hello",
        "gateway": f"{gateway}/api/bench/hello",
        "gateway, authenticated": f"{gateway}/api/signed/hello",
        "nginx": f"http://127.0.0.1:{ports['nginx']}/api/bench/hello",
    }
    wait_ok(urls["gateway"])
    return urls, {"Authorization": f"Bearer {user_token(gateway)}"}


def user_token(gateway: str) -> str:
    """A demo user's token (development mode), good for the whole run."""
    answer = requests.post(
        f"{gateway}/auth/token", json={"username": "alice", "password": "wonderland"}, timeout=5
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reruns", type=int, default=4, help="disturbed rounds run again, at most")
    parser.add_argument("--gateway-args", default="", help="extra gunicorn arguments")
    parser.add_argument("--output", type=Path, default=REPO / "docs/benchmarks/gateway.md")
    args = parser.parse_args()
    ensure_tools()
    rounds: dict[str, dict[str, list]] = {}
    reruns: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp, ExitStack() as stack:
        urls, signed = start_all(stack, Path(tmp), shlex.split(args.gateway_args))
        headers = {target: signed if "authenticated" in target else {} for target in urls}
        for target, url in urls.items():
            wait_ok(url, headers=headers[target])
            # warm-up as long as a run: connections, pools, the interpreters' caches
            run_wrk(url, 32, args.seconds, headers=headers[target])

        def run_round(number: int) -> None:
            for target, url in urls.items():
                empty = [None] * args.rounds
                runs = rounds.setdefault(target, {"c32": list(empty), "c1": list(empty)})
                runs["c32"][number] = run_wrk(url, 32, args.seconds, headers=headers[target])
                runs["c1"][number] = run_wrk(url, 1, args.seconds, headers=headers[target])
                c32, c1 = runs["c32"][number], runs["c1"][number]
                print(f"round {number + 1} {target}: {c32} {c1}", flush=True)

        for number in range(args.rounds):
            run_round(number)
        while len(reruns) < args.reruns and (found := disturbed(rounds)):
            number, why = found
            reruns.append(f"round {number + 1} ({why})")
            print(f"running round {number + 1} again: {why}", flush=True)
            run_round(number)
    medians = {t: {k: median(v) for k, v in runs.items()} for t, runs in rounds.items()}
    text = write_report(args.output, rounds, medians, args, reruns)
    print(text)


if __name__ == "__main__":
    main()
