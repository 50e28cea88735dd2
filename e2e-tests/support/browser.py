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


# Playwright drives the same Debian Chromium through its executable path:
# no browser is downloaded (`playwright install` is never run).
PLAYWRIGHT_ARGS = [flag for flag in FLAGS if flag != "--headless"]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}


def launch(playwright):
    """Headless Chromium under Playwright."""
    return playwright.chromium.launch(executable_path=chromium(), args=PLAYWRIGHT_ARGS)


def accessibility_violations(page) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now.

    axe is evaluated by the test driver, not added as a <script>: the page's
    Content-Security-Policy allows only the shop's own scripts, rightly."""
    page.evaluate(AXE.read_text())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    assert results["testEngine"]["name"] == "axe-core" and results["passes"], "axe did not run"
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
        if v["impact"] in SERIOUS
    ]
