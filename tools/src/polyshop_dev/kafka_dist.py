"""Getting the Apache Kafka broker jars once, then working offline.

With Maven on the machine the jars come from Maven Central (tools/kafka/pom.xml);
without it, from the official release tarball. Either way they land in
.cache/kafka/VERSION/libs and later runs need no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from polyshop_dev.paths import CACHE, ROOT

KAFKA_VERSION = "4.1.1"
SCALA_VERSION = "2.13"
POM = ROOT / "tools" / "kafka" / "pom.xml"
TARBALL_URL = (
    f"https://archive.apache.org/dist/kafka/{KAFKA_VERSION}/"
    f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}.tgz"
)


def libs_dir() -> Path:
    return CACHE / "kafka" / KAFKA_VERSION / "libs"


def ensure_jars() -> Path:
    libs = libs_dir()
    done = libs.parent / ".complete"
    if done.exists():
        return libs
    print(f"Fetching Apache Kafka {KAFKA_VERSION} (first run only) into {libs.parent}", flush=True)
    shutil.rmtree(libs, ignore_errors=True)
    libs.mkdir(parents=True)
    if shutil.which("mvn"):
        _from_maven(libs)
    else:
        _from_tarball(libs)
    done.touch()
    return libs


def _from_maven(libs: Path) -> None:
    subprocess.run(
        [
            "mvn",
            "-B",
            "--no-transfer-progress",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        ],
        check=True,
    )


def _from_tarball(libs: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "kafka.tgz"
        urllib.request.urlretrieve(TARBALL_URL, archive, _progress)
        print(flush=True)
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if "/libs/" in member.name and member.name.endswith(".jar"):
                    member.name = Path(member.name).name
                    tar.extract(member, libs, filter="data")


def _progress(blocks: int, block_size: int, total: int) -> None:
    done = blocks * block_size
    if total > 0:
        sys.stdout.write(f"\r  {min(done, total) / 2**20:.0f} of {total / 2**20:.0f} MiB")
        sys.stdout.flush()
