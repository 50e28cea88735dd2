"""The Spring Boot agent (e2e-tests/agents/eureka-spring-agent): a stock Eureka
client in Java, built once with Maven into .cache and run as a test piece."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from polyshop_dev.paths import CACHE, ROOT
from polyshop_dev.stack import Piece, http_ok

AGENT = ROOT / "e2e-tests" / "agents" / "eureka-spring-agent"
BUILD_SECONDS = 600  # the first build downloads Spring from Maven Central
START_SECONDS = 90.0  # a JVM starting Spring on a busy 2-core machine


def agent_jar() -> Path:
    """The agent's jar, built again only when its pom or sources change."""
    digest = hashlib.sha256()
    for path in sorted(p for p in AGENT.rglob("*") if p.is_file() and "target" not in p.parts):
        digest.update(str(path.relative_to(AGENT)).encode() + path.read_bytes())
    jar = CACHE / "eureka-spring-agent" / digest.hexdigest()[:16] / "agent.jar"
    if jar.exists():
        return jar
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar.parent) as scratch:
        command = ["mvn", "-q", "-B", "-DskipTests", f"-Dbuild.dir={scratch}", "package"]
        built = subprocess.run(
            command, cwd=AGENT, capture_output=True, text=True, timeout=BUILD_SECONDS
        )
        if built.returncode != 0:
            raise RuntimeError(f"building the Spring agent failed:\n{built.stdout[-4000:]}")
        os.replace(Path(scratch) / "agent.jar", jar)  # whole, or not there at all
    return jar


def spring_agent_piece(port: int, properties: dict[str, str]) -> Piece:
    """The agent on `port`, configured only by Spring properties."""
    # The quick JIT tier: the agent answers a few requests, and starts faster.
    java = ["java", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-jar", str(agent_jar())]
    return Piece(
        name="eureka-spring",
        command=[*java, f"--server.port={port}", *(f"--{k}={v}" for k, v in properties.items())],
        ready=http_ok(f"http://127.0.0.1:{port}/"),
        url=f"http://127.0.0.1:{port}",
        start_timeout=START_SECONDS,
    )
