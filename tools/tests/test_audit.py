"""The dependency audit's decisions, on reports shaped as pip-audit and npm
audit write them; and the export and options it passes, run for real."""

from __future__ import annotations

import json
import subprocess

import pytest

from polyshop_dev import audit, testrun
from polyshop_dev.audit import FAILED, NOT_DONE, PASSED, Finding, Report
from polyshop_dev.paths import ROOT
from polyshop_dev.pieces import BIN

SKIPPED = "Dependency not found on PyPI and could not be audited: flask (3.1.2)"


def pip_audit_json(*dependencies: dict) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def pinned(name: str, *vulns: dict) -> dict:
    return {"name": name, "version": "1.0.0", "vulns": list(vulns)}


def vuln(ident: str, *fixed_in: str) -> dict:
    return {"id": ident, "fix_versions": list(fixed_in), "aliases": [f"CVE-{ident}"]}


def npm_audit_json(**vulnerabilities: dict) -> str:
    return json.dumps(
        {
            "auditReportVersion": 2,
            "vulnerabilities": vulnerabilities,
            "metadata": {"dependencies": {"total": 42}},
        }
    )


def npm_entry(fix: bool | dict, via: list | None = None) -> dict:
    via = via or [{"source": 1, "title": "Prototype pollution", "range": "<1.2.6"}]
    return {"severity": "high", "range": "<1.2.6", "via": via, "fixAvailable": fix}


def test_when_nothing_is_vulnerable_then_the_audit_passes():
    report = audit.read_pip_audit(pip_audit_json(pinned("flask"), pinned("requests")))
    assert (report.audited, report.findings, report.error) == (2, (), None)
    assert audit.verdict([report]) == PASSED


def test_when_a_fixed_version_exists_then_the_audit_fails_naming_it():
    report = audit.read_pip_audit(pip_audit_json(pinned("jinja2", vuln("PYSEC-1", "3.1.6"))))
    assert report.findings == (Finding("jinja2", "1.0.0", "PYSEC-1 / CVE-PYSEC-1", ("3.1.6",)),)
    assert audit.verdict([report]) == FAILED
    assert "FIX AVAILABLE jinja2 1.0.0: PYSEC-1 / CVE-PYSEC-1 (fixed in 3.1.6)" in audit.render(
        [report]
    )


def test_when_no_version_fixes_it_yet_then_it_is_listed_but_does_not_fail():
    report = audit.read_pip_audit(pip_audit_json(pinned("ecdsa", vuln("GHSA-2"))))
    assert audit.verdict([report]) == PASSED
    assert "no fix yet" in audit.render([report])


def test_when_the_database_knows_no_package_then_the_audit_is_not_done_and_says_so():
    report = audit.read_pip_audit(pip_audit_json({"name": "flask", "skip_reason": SKIPPED}))
    assert report.error is not None and SKIPPED in report.error
    assert audit.verdict([report]) == NOT_DONE
    assert "DEPENDENCY AUDIT NOT DONE for uv.lock" in audit.render([report])


def test_when_some_packages_were_not_looked_up_then_the_audit_is_incomplete():
    skipped = {"name": "flask", "skip_reason": SKIPPED}
    report = audit.read_pip_audit(pip_audit_json(pinned("requests"), skipped))
    assert (report.audited, report.unaudited) == (1, ("flask",))
    assert audit.verdict([report]) == NOT_DONE
    assert "DEPENDENCY AUDIT INCOMPLETE for uv.lock" in audit.render([report])


@pytest.mark.parametrize(
    "output", ["", "Traceback ...\nConnectionError: no route", '{"unexpected": 1}']
)
def test_when_pip_audit_gives_no_report_then_the_audit_is_not_done(output):
    report = audit.read_pip_audit(output, stderr=output)
    assert report.error is not None and report.error.startswith("pip-audit failed")
    assert audit.verdict([report]) == NOT_DONE


def test_when_an_audit_is_required_then_not_done_fails():
    not_done = Report("uv.lock", error="unreachable")
    assert audit.verdict([not_done], required=True) == FAILED
    assert audit.verdict([Report("uv.lock", audited=3)], required=True) == PASSED


def test_a_fixable_vulnerability_fails_even_when_the_other_audit_was_not_done():
    fixable = Report("uv.lock", 1, (Finding("jinja2", "1.0.0", "PYSEC-1", ("3.1.6",)),))
    assert audit.verdict([fixable, Report("package-lock.json", error="405")]) == FAILED


@pytest.mark.parametrize(
    ("fix", "fixed_in", "verdict"),
    [
        (True, ("npm audit fix",), FAILED),
        (
            {"name": "express", "version": "5.1.0", "isSemVerMajor": True},
            ("express 5.1.0 (a major upgrade)",),
            FAILED,
        ),
        (False, (), PASSED),
    ],
    ids=["fix in range", "fix by a major upgrade", "no fix"],
)
def test_npm_findings_fail_only_when_a_fix_is_available(fix, fixed_in, verdict):
    report = audit.read_npm_audit(npm_audit_json(qs=npm_entry(fix)))
    assert report.audited == 42
    assert report.findings == (Finding("qs", "<1.2.6", "Prototype pollution", fixed_in),)
    assert audit.verdict([report]) == verdict


def test_a_package_vulnerable_through_another_names_it():
    report = audit.read_npm_audit(npm_audit_json(body=npm_entry(False, via=["qs"])))
    assert report.findings[0].advisory == "through qs"


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (json.dumps({"message": "405 Method Not Allowed", "statusCode": 405}), "405"),
        (json.dumps({"error": {"code": "ENOAUDIT", "summary": "no audit endpoint"}}), "no audit"),
        ("npm ERR! network", "npm ERR! network"),
    ],
)
def test_when_npm_audit_gives_no_report_then_the_audit_is_not_done(output, reason):
    report = audit.read_npm_audit(output)
    assert report.error is not None and reason in report.error
    assert audit.verdict([report]) == NOT_DONE


def test_the_lockfile_exports_every_pinned_package_but_the_workspace_own():
    exported = subprocess.run(
        [audit.UV, *audit.EXPORT], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    names = {line.split("==")[0] for line in exported.splitlines() if "==" in line}
    assert {"flask", "pytest", "pip-audit"} <= names
    assert not [line for line in exported.splitlines() if "polyshop" in line.split("#")[0]]


def test_pip_audit_takes_the_options_and_answers_in_json(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    found = subprocess.run(
        [BIN / "pip-audit", *audit.PIP_AUDIT, "-r", requirements],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    report = audit.read_pip_audit(found.stdout, found.stderr)
    assert (report.audited, report.error) == (0, None)


@pytest.mark.parametrize(
    ("step", "code", "shown"),
    [
        (testrun.AUDIT, PASSED, "ok"),
        (testrun.AUDIT, FAILED, "FAIL"),
        (testrun.AUDIT, NOT_DONE, "NOT DONE"),
        ("python tests", NOT_DONE, "FAIL"),  # pytest's 3 is an internal error
    ],
)
def test_the_test_run_shows_an_audit_not_done_without_failing(step, code, shown):
    assert testrun.outcome(step, code) == shown


def test_error_messages_keep_the_reason_but_not_the_address():
    text = "405 Method Not Allowed - POST https://example.invalid/-/npm/v1/security/advisories/bulk"
    assert audit.without_urls(text) == "405 Method Not Allowed - POST (the service's address)"


def test_npm_failing_to_ask_is_reported_without_the_address():
    output = json.dumps({"message": "405 Method Not Allowed - POST https://example.invalid/bulk"})
    report = audit.read_npm_audit(output)
    assert report.error == "npm audit failed: 405 Method Not Allowed - POST (the service's address)"
