"""A piece's Prometheus metrics as the graders and solutions read them."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def samples(url: str, name: str) -> list[Sample]:
    """The samples named `name` at a /metrics address; none when it does
    not answer 200 (an instance stopping, say)."""
    answer = requests.get(url, timeout=5)
    if answer.status_code != 200:
        return []
    return [
        sample
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == name
    ]
