"""Headless Chromium (Debian's package) for tests of pages."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# No background traffic: this machine's network is closed, and a test browser
# has nothing to fetch but the page under test.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise AssertionError("headless Chromium is needed: `make test` installs it")
    return found


def render(url: str, screenshot: Path | None = None, timeout: float = 60) -> str:
    """The page's DOM after the browser loaded and ran it."""
    with tempfile.TemporaryDirectory() as profile:
        base = [chromium(), *FLAGS, f"--user-data-dir={profile}"]
        if screenshot:
            subprocess.run(
                [*base, f"--screenshot={screenshot}", "--window-size=1200,800", url],
                check=True,
                capture_output=True,
                timeout=timeout,
            )
        result = subprocess.run(
            [*base, "--dump-dom", url],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    return result.stdout
