"""`make up`'s program: it starts the pieces, prints where they are, and on
Ctrl-C stops everything it started; with TRACES=1 (`--traces`), a Zipkin
server too."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from polyshop_dev.paths import ROOT
from polyshop_dev.pieces import free_port


def test_up_prints_the_dashboard_and_stops_everything_on_ctrl_c(kafka_bootstrap):
    # With --traces, as `make up TRACES=1` runs it: one start covers both.
    registry_url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "REGISTRY_URL": registry_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    up = subprocess.Popen(
        [sys.executable, "-m", "polyshop_dev.up", "--traces"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in up.stdout:
            lines.append(line)
            if line.startswith("polyshop is up"):
                break
        for line in up.stdout:  # the addresses, up to the blank line after them
            lines.append(line)
            if not line.strip():
                break
        printed = "".join(lines)
        assert f"registry dashboard   {registry_url}/" in printed, printed
        assert requests.get(registry_url + "/", timeout=2).status_code == 200
        # Every URL it prints opens: the storefront and the system view too.
        named = r"^  (storefront and API|system view|gateway metrics)\s+(\S+)$"
        shown = dict(re.findall(named, printed, re.M))
        assert set(shown) == {"storefront and API", "system view", "gateway metrics"}, printed
        storefront = requests.get(shown["storefront and API"], timeout=5)
        assert storefront.status_code == 200 and "<h1>Products</h1>" in storefront.text
        assert requests.get(shown["system view"], timeout=5).status_code == 200
        metrics = requests.get(shown["gateway metrics"], timeout=5)
        assert "http_server_request_duration_seconds_count{" in metrics.text, metrics.text[:500]
        zipkin = re.search(r"^  traces \(Zipkin\)\s+(\S+)$", printed, re.M)
        assert zipkin, printed
        assert requests.get(zipkin.group(1), timeout=5).status_code == 200

        up.send_signal(signal.SIGINT)
        rest = up.communicate(timeout=30)[0]
    finally:
        # Even after a failed check: Ctrl-C, so that `up` stops what it started
        # (killed outright, it would leave the pieces on the default ports).
        if up.poll() is None:
            up.send_signal(signal.SIGINT)
            try:
                up.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                up.kill()
                up.communicate()
        up.stdout.close()
    assert up.returncode == 0
    assert "nothing left running" in rest
    for left in (registry_url + "/", zipkin.group(1)):
        with pytest.raises(requests.ConnectionError):
            requests.get(left, timeout=1)
