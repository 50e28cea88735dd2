"""The README's settings table names every variable the registry reads, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from registry.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


class Recorder(dict):
    """An environment that remembers which variables were asked for."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, name, default=None):
        self.asked.add(name)
        return super().get(name, default)


def test_the_configuration_table_lists_every_variable_read(credentials_file):
    environ = Recorder(REGISTRY_CREDENTIALS_FILE=str(credentials_file))
    Settings.from_env(environ)

    section = README.read_text().split("## Configuration")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.MULTILINE))

    assert documented == environ.asked
