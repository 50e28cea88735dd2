"""The Spring Boot agent (e2e-tests/agents/eureka-spring-agent): a stock Eureka
client in Java, built once with Maven into .cache and run as a test piece."""

from __future__ import annotations

from polyshop_dev.maven import built_jar
from polyshop_dev.paths import ROOT
from polyshop_dev.stack import Piece, http_ok

AGENT = ROOT / "e2e-tests" / "agents" / "eureka-spring-agent"
START_SECONDS = 90.0  # a JVM starting Spring on a busy 2-core machine


def spring_agent_piece(port: int, properties: dict[str, str]) -> Piece:
    """The agent on `port`, configured only by Spring properties."""
    # The quick JIT tier: the agent answers a few requests, and starts faster.
    jar = built_jar(AGENT, "agent.jar")
    java = ["java", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-jar", str(jar)]
    return Piece(
        name="eureka-spring",
        command=[*java, f"--server.port={port}", *(f"--{k}={v}" for k, v in properties.items())],
        ready=http_ok(f"http://127.0.0.1:{port}/"),
        url=f"http://127.0.0.1:{port}",
        start_timeout=START_SECONDS,
    )
