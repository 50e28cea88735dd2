"""Where views find the registry's store, settings and rules: on the app, not in globals.

`create_app` puts them there once; a view asks for `current_store()` while it
handles a request, so two apps (two tests) never share a store.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from registry.answers import SharedAnswers
from registry.config import Settings
from registry.store import Store
from registry.validation import Rules

EXTENSION = "registry"


@dataclass(frozen=True)
class RegistryState:
    settings: Settings
    store: Store
    rules: Rules
    answers: SharedAnswers


def init_app(app: Flask, settings: Settings, store: Store, rules: Rules) -> None:
    state = RegistryState(settings=settings, store=store, rules=rules, answers=SharedAnswers())
    app.extensions[EXTENSION] = state


def current_store() -> Store:
    return current_app.extensions[EXTENSION].store


def current_settings() -> Settings:
    return current_app.extensions[EXTENSION].settings


def current_rules() -> Rules:
    return current_app.extensions[EXTENSION].rules


def current_answers() -> SharedAnswers:
    return current_app.extensions[EXTENSION].answers
