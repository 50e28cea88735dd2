"""True docs: what the pages name is there.

- every relative link in the Markdown pages points to a file or folder of
  the repository, and its `#anchor`, if any, to a heading of that page;
- in docs/ and the README, every repository path written in backticks
  exists, every `make NAME` is a target of the Makefile, and every
  `python -m MODULE` is a module that can be run.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]


def project_files(*patterns: str) -> list[str]:
    """What git has or would add, relative to the root: no installed package's files."""
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


PAGES = sorted(ROOT / name for name in project_files("*.md"))
# The pages a reader learns from: their commands and paths are checked too.
DOCS = [page for page in PAGES if page.parent == ROOT or "docs" in page.relative_to(ROOT).parts]
# [text](target) and ![alt](target), not web addresses.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)([^\n]*)\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"""<a\s+(?:name|id)=["']([^"']+)["']""")


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


# --- links and anchors --------------------------------------------------------


def without_code(text: str) -> str:
    """The page less its fenced code blocks, where a `#` line is no heading."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text of its links, lower-cased,
    punctuation dropped (but `-` and `_`), spaces made `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).lower()
    text = "".join(char for char in text if char.isalnum() or char in " -_")
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    """Every anchor a page offers, the second heading of one name as `name-1`."""
    text = without_code(page.read_text())
    seen: dict[str, int] = {}
    anchors = set(HTML_ANCHOR.findall(text))
    for _, title in HEADING.findall(text):
        base = slug(title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.add(base if count == 0 else f"{base}-{count}")
    return anchors


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(page.read_text()) if "://" not in target]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_leads_somewhere(page: Path):
    missing = [
        target
        for target in relative_links(page)
        if not target.startswith("#") and not (page.parent / target.split("#")[0]).exists()
    ]
    assert missing == [], f"{page_id(page)} links to what is not there"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_anchor_names_a_heading_of_its_page(page: Path):
    broken = []
    for target in relative_links(page):
        path, hash_sign, anchor = target.partition("#")
        if not hash_sign:
            continue
        linked = (page.parent / path).resolve() if path else page
        # A folder or a source file has no headings to check (GitHub's line
        # anchors, #L10, are not headings).
        if linked.suffix != ".md" or not linked.is_file():
            continue
        if unquote(anchor).lower() not in anchors_of(linked):
            broken.append(target)
    assert broken == [], f"{page_id(page)} links to headings that are not there"


def test_slugs_follow_githubs_rules():
    assert slug("Retries, expiry and dead letters") == "retries-expiry-and-dead-letters"
    assert slug("`polyshop dlq` (the tool)") == "polyshop-dlq-the-tool"
    assert slug("Where it lives: [outbox.py](x.py)") == "where-it-lives-outboxpy"
    assert slug("Client-side vs server-side") == "client-side-vs-server-side"


# --- what the docs tell a reader to type --------------------------------------


def code_of(page: Path) -> list[str]:
    """The page's code: each inline span, and each line of its fenced blocks
    but diagrams (a Mermaid label is not a command)."""
    text = page.read_text()
    code = []
    for _, info, body in FENCE.findall(text):
        if info.strip() != "mermaid":
            code.extend(body.splitlines())
    code.extend(INLINE_CODE.findall(FENCE.sub("", text)))
    return code


# Folders `make setup` and `make up` create, ignored by git: a page may name
# what is in them (logs, secrets, the virtual environment), never checked.
MADE_AT_RUN_TIME = {".run", ".cache", ".venv", "node_modules"}
TOP_LEVEL = {name.split("/")[0] for name in project_files()} - MADE_AT_RUN_TIME
# A placeholder the reader fills in: DLQTOPIC/PARTITION/OFFSET, TYPE.schema.json,
# labs/NN-name/.
PLACEHOLDER = re.compile(r"(^|/)(?!README\b)[A-Z][A-Z0-9_]+([.\-/]|$)")
GLOB = re.compile(r"[*?\[\]{}<>]|\.\.\.")
# Written like repository paths, but relative to another folder.
ELSEWHERE = {
    # docs/security.md's table of the secrets folder (.run/secrets/), per piece.
    "gateway/signing-key.pem",
    "gateway/clients.json",
    "registry/credentials.json",
    "registry/peer-token",
    # ADRs 0010 and 0011 name modules by their package (gateway/src/gateway/),
    # as they name `catalog/app.py`.
    "gateway/app.py",
    "gateway/edge.py",
}


def path_words(code: str) -> list[str]:
    """The words of a code span that look like repository paths."""
    found = []
    for word in code.split():
        word = word.split("=")[-1]  # SCREENSHOTS=docs/screenshots
        word = word.strip("\"'(),;[]`").rstrip(".:")
        word = word.split("::")[0].split("#")[0]  # a test id, an anchor
        if "/" in word and word.split("/")[0] in TOP_LEVEL:
            found.append(word)
    return found


@pytest.mark.parametrize("page", DOCS, ids=page_id)
def test_every_repository_path_in_backticks_exists(page: Path):
    missing = [
        word
        for code in code_of(page)
        for word in path_words(code)
        if not (ROOT / word).exists()
        and word not in ELSEWHERE
        and not GLOB.search(word)
        and not PLACEHOLDER.search(word)
    ]
    assert missing == [], f"{page_id(page)} names paths that are not in the repository"


def make_targets() -> list[str]:
    """Every target of the Makefile, pattern rules (`lab-%-check`) as patterns."""
    targets = []
    for line in (ROOT / "Makefile").read_text().splitlines():
        rule = re.match(r"^([A-Za-z0-9_.%/ -]+?)\s*::?(?!=)", line)
        if rule:
            targets.extend(rule.group(1).split())
    return [target for target in targets if not target.startswith(".")]


# `make NAME` at the start of a command, after variables set for it
# (`AUDIT_REQUIRED=1 make test`); a word of `NAME=value` is a variable, not a target.
MAKE = re.compile(r"(?:^|[;&|(]\s*)(?:\w+=\S*\s+)*make\s+(?![\w.-]*=)([A-Za-z0-9][\w.-]*)")


@pytest.mark.parametrize("page", DOCS, ids=page_id)
def test_every_make_command_names_a_target(page: Path):
    targets = make_targets()
    unknown = [
        name
        for code in code_of(page)
        for line in code.splitlines()
        for name in MAKE.findall(line.strip().removeprefix("$ "))
        if not any(fnmatch.fnmatchcase(name, target.replace("%", "*")) for target in targets)
    ]
    assert unknown == [], f"{page_id(page)} names make targets the Makefile does not have"


PYTHON_M = re.compile(r"(?:^|[\s/;&|(])python3?(?:\.\d+)?\s+-m\s+([A-Za-z_][\w.]*)")


def repository_packages() -> dict[str, Path]:
    """Each Python package of the repository, by name, with the `src` folder it is in."""
    inits = [Path(init) for init in project_files("*/src/*/__init__.py")]
    return {
        init.parent.name: ROOT / init.parent.parent
        for init in inits
        if init.parent.parent.name == "src"
    }


def runnable(module: str, packages: dict[str, Path]) -> bool:
    """`python -m module` finds it: a repository module (or a package with a
    `__main__`), or one of the standard library or the virtual environment."""
    top = module.split(".")[0]
    if top not in packages:
        return importlib.util.find_spec(module) is not None
    path = packages[top].joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()


@pytest.mark.parametrize("page", DOCS, ids=page_id)
def test_every_python_module_run_with_dash_m_exists(page: Path):
    packages = repository_packages()
    unknown = [
        module
        for code in code_of(page)
        for module in PYTHON_M.findall(code)
        if not runnable(module, packages)
    ]
    assert unknown == [], f"{page_id(page)} runs modules that do not exist"
