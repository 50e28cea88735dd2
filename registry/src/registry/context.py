"""Where views find the registry's store and settings: on the app, not in globals.

`create_app` puts them there once; a view asks for `current_store()` while it
handles a request, so two apps (two tests) never share a store.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from registry.config import Settings
from registry.store import Store

EXTENSION = "registry"


@dataclass(frozen=True)
class RegistryState:
    settings: Settings
    store: Store


def init_app(app: Flask, settings: Settings, store: Store) -> None:
    app.extensions[EXTENSION] = RegistryState(settings=settings, store=store)


def current_store() -> Store:
    return current_app.extensions[EXTENSION].store


def current_settings() -> Settings:
    return current_app.extensions[EXTENSION].settings
