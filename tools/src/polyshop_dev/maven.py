"""Java programs of the repository's own (a Maven project each), built once into .cache.

The Spring Boot Eureka client of the end-to-end tests and the Eureka server
of the registry benchmark are built with `mvn package`; a project is built
again only when one of its files changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from polyshop_dev.paths import CACHE

BUILD_SECONDS = 600  # the first build downloads Spring from Maven Central


def built_jar(project: Path, jar_name: str) -> Path:
    """The jar `jar_name` that the project at `project` builds.

    The project's pom builds into `${build.dir}`, so the sources get no
    target/ folder; the jar is moved into place whole, or not at all.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in project.rglob("*") if p.is_file() and "target" not in p.parts):
        digest.update(str(path.relative_to(project)).encode() + path.read_bytes())
    jar = CACHE / project.name / digest.hexdigest()[:16] / jar_name
    if jar.exists():
        return jar
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar.parent) as scratch:
        command = ["mvn", "-q", "-B", "-DskipTests", f"-Dbuild.dir={scratch}", "package"]
        built = subprocess.run(
            command, cwd=project, capture_output=True, text=True, timeout=BUILD_SECONDS
        )
        if built.returncode != 0:
            raise RuntimeError(f"mvn package of {project} failed:\n{built.stdout[-4000:]}")
        os.replace(Path(scratch) / jar_name, jar)
    return jar
