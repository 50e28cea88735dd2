"""True docs: every relative link in the README files and docs/ points to
a file or folder of the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The project's own Markdown pages (what git has or would add, so no
# installed package's README).
PAGES = sorted(
    ROOT / name
    for name in subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
)
# [text](target) and ![alt](target), not web addresses or in-page anchors.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(page: Path):
    targets = [target for target in LINK.findall(page.read_text()) if "://" not in target]
    missing = [
        target
        for target in targets
        if not target.startswith("#") and not (page.parent / target.split("#")[0]).exists()
    ]
    assert missing == [], f"{page.relative_to(ROOT)} links to what is not there"
