"""promtool, Prometheus' own checker, for the tests of the metrics and of
the observability profile's configuration (docs/observability.md).

It comes from Debian's `prometheus` package, unpacked into .cache/promtool
rather than installed: installing would also set up a Prometheus server as
a system service, and nothing here runs one.

    python -m polyshop_dev.promtool check config deploy/observability/prometheus.yml
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from polyshop_dev.paths import CACHE

PACKAGE = "prometheus"
FOLDER = CACHE / "promtool"


def path() -> Path:
    """promtool's executable, unpacked from the package on the first call."""
    found = FOLDER / "usr" / "bin" / "promtool"
    if found.exists():
        return found
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"promtool comes from Debian's {PACKAGE} package: {tool} is needed")
    print(f"Unpacking promtool from Debian's {PACKAGE} package into {FOLDER}", flush=True)
    with tempfile.TemporaryDirectory() as download:
        # As root, apt hands the download to its own unprivileged user, who
        # cannot write into a private temporary folder: it says so and
        # downloads as root instead, which is what is wanted here.
        subprocess.run(
            ["apt-get", "download", "-qq", PACKAGE],
            cwd=download,
            check=True,
            stderr=subprocess.DEVNULL,
        )
        (package,) = Path(download).glob(f"{PACKAGE}_*.deb")
        CACHE.mkdir(parents=True, exist_ok=True)
        unpacked = Path(tempfile.mkdtemp(dir=CACHE, prefix="promtool-"))
        subprocess.run(["dpkg-deb", "-x", str(package), str(unpacked)], check=True)
    if FOLDER.exists() and not found.exists():
        shutil.rmtree(FOLDER)  # left half-made by an earlier run
    try:
        unpacked.rename(FOLDER)  # whole or not at all
    except OSError:
        shutil.rmtree(unpacked)  # another test worker unpacked it first
    return found


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(path()), *args], input=stdin, capture_output=True, text=True, check=False
    )


if __name__ == "__main__":
    result = run(*sys.argv[1:])
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.exit(result.returncode)
