"""The dependency audit of `make test`: known vulnerabilities of what the lockfiles pin.

pip-audit checks the Python packages uv.lock pins (exported as a
requirements file, the workspace's own packages left out) and npm audit the
packages package-lock.json pins. Both ask a vulnerability database over the
network. The run fails on a vulnerability that a newer version fixes: the
fix is an upgrade away. One that no version fixes yet is listed but does not
fail the run, since nothing can be done about it but watch.

When the database cannot be reached, or knows none of the packages, nothing
was checked, and that is not the same as nothing found: the audit says so in
a banner and exits NOT_DONE, which `make test` shows as NOT DONE without
failing. With AUDIT_REQUIRED=1 an audit that could not be done fails instead
(for machines that reach the databases).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from polyshop_dev.paths import CACHE, ROOT
from polyshop_dev.pieces import BIN

PASSED, FAILED, NOT_DONE = 0, 1, 3
UV = CACHE / "uv" / "bin" / "uv"
# Every group, as `make setup` installs them; the workspace's own packages are not on an index.
EXPORT = ["export", "--frozen", "--all-groups", "--format=requirements-txt", "--no-emit-workspace"]
# The exported file pins every package: nothing to resolve, no pip needed.
PIP_AUDIT = ["--no-deps", "--disable-pip", "--format=json", "--desc=off", "--progress-spinner=off"]


@dataclass(frozen=True)
class Finding:
    package: str
    version: str  # the pinned version (Python) or the vulnerable range (npm)
    advisory: str
    fixed_in: tuple[str, ...]  # empty: no version fixes it yet

    @property
    def fixable(self) -> bool:
        return bool(self.fixed_in)


@dataclass(frozen=True)
class Report:
    lockfile: str
    audited: int = 0
    findings: tuple[Finding, ...] = ()
    unaudited: tuple[str, ...] = ()  # packages the database knew nothing of
    error: str | None = None  # why nothing at all could be checked


def read_pip_audit(output: str, stderr: str = "") -> Report:
    """pip-audit's JSON (`--format json`); a package it skipped was not checked."""
    try:
        dependencies = json.loads(output)["dependencies"]
    except (ValueError, KeyError, TypeError):
        return Report("uv.lock", error=f"pip-audit failed: {last_line(stderr or output)}")
    skipped = [d for d in dependencies if "skip_reason" in d]
    checked = [d for d in dependencies if "skip_reason" not in d]
    if skipped and not checked:
        why = f"the database answered for none of {len(skipped)} packages"
        return Report("uv.lock", error=f"{why}: {without_urls(skipped[0]['skip_reason'])}, ...")
    findings = tuple(
        Finding(d["name"], d["version"], advisory_id(v), tuple(v["fix_versions"]))
        for d in checked
        for v in d["vulns"]
    )
    return Report("uv.lock", len(checked), findings, tuple(d["name"] for d in skipped))


def advisory_id(vuln: dict) -> str:
    return " / ".join([vuln["id"], *vuln.get("aliases", [])])


def read_npm_audit(output: str) -> Report:
    """npm audit's JSON (`--json`, report version 2), or the error it printed."""
    try:
        report = json.loads(output)
        vulnerabilities = report["vulnerabilities"]
        audited = report["metadata"]["dependencies"]["total"]
    except (ValueError, KeyError, TypeError):
        failure = without_urls(npm_error(output))
        return Report("package-lock.json", error=f"npm audit failed: {failure}")
    findings = tuple(
        Finding(name, entry["range"], npm_advisories(entry), npm_fix(entry["fixAvailable"]))
        for name, entry in sorted(vulnerabilities.items())
    )
    return Report("package-lock.json", audited, findings)


def npm_advisories(entry: dict) -> str:
    """Its own advisories' titles, or the packages it is vulnerable through."""
    titles = [v["title"] for v in entry["via"] if isinstance(v, dict)]
    through = [v for v in entry["via"] if isinstance(v, str)]
    return "; ".join(titles) or f"through {', '.join(through)}"


def npm_fix(available: bool | dict) -> tuple[str, ...]:
    if isinstance(available, dict):
        major = " (a major upgrade)" if available.get("isSemVerMajor") else ""
        return (f"{available['name']} {available['version']}{major}",)
    return ("npm audit fix",) if available else ()


def npm_error(output: str) -> str:
    try:
        found = json.loads(output)
    except ValueError:
        return last_line(output)
    error = found.get("error") if isinstance(found, dict) else None
    if isinstance(error, dict) and error.get("summary"):
        return without_urls(str(error["summary"]))
    return str(found.get("message", "no report")) if isinstance(found, dict) else "no report"


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return without_urls(lines[-1].strip()) if lines else "no output"


def without_urls(text: str) -> str:
    """The tools' messages name the addresses they asked; the reason is enough."""
    return re.sub(r"\b\w+://\S+", "(the service's address)", text)


def verdict(reports: Sequence[Report], required: bool = False) -> int:
    if any(f.fixable for report in reports for f in report.findings):
        return FAILED
    if any(report.error or report.unaudited for report in reports):
        return FAILED if required else NOT_DONE
    return PASSED


def render(reports: Sequence[Report]) -> str:
    lines = []
    for report in reports:
        if report.error:
            lines += banner(f"NOT DONE for {report.lockfile}", report.error)
            continue
        count = len(report.findings)
        lines.append(f"{report.lockfile}: {report.audited} packages checked, {count} vulnerable")
        for f in report.findings:
            fix = f"fixed in {', '.join(f.fixed_in)}" if f.fixable else "no fix yet"
            label = "FIX AVAILABLE" if f.fixable else "no fix yet   "
            lines.append(f"  {label} {f.package} {f.version}: {f.advisory} ({fix})")
        if report.unaudited:
            skipped = ", ".join(report.unaudited)
            lines += banner(f"INCOMPLETE for {report.lockfile}", f"not looked up: {skipped}")
    return "\n".join(lines)


def banner(what: str, why: str) -> list[str]:
    rule = "!" * 72
    return [
        rule,
        f"!! DEPENDENCY AUDIT {what}",
        f"!! {why}",
        "!! Known vulnerabilities of these packages were NOT checked.",
        rule,
    ]


def run(command: list[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def audit_python() -> Report:
    try:
        export = run([UV, *EXPORT])
        if export.returncode != 0:
            return Report("uv.lock", error=f"uv export failed: {last_line(export.stderr)}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
            requirements.write(export.stdout)
            requirements.flush()
            found = run([BIN / "pip-audit", *PIP_AUDIT, "-r", requirements.name])
    except OSError as error:  # uv or pip-audit not installed: `make setup`
        return Report("uv.lock", error=f"cannot run the audit: {error}")
    return read_pip_audit(found.stdout, found.stderr)


def audit_node() -> Report:
    try:
        found = run(["npm", "audit", "--json", "--package-lock-only"])
    except OSError as error:
        return Report("package-lock.json", error=f"cannot run npm audit: {error}")
    return read_npm_audit(found.stdout)


def main() -> int:
    reports = [audit_python(), audit_node()]
    print(render(reports), flush=True)
    return verdict(reports, required=os.environ.get("AUDIT_REQUIRED") == "1")


if __name__ == "__main__":
    sys.exit(main())
