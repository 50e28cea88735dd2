"""Eureka's REST API under /eureka, over the same store as /v1.

An unchanged Eureka client (Spring Cloud Netflix, py-eureka-client,
eureka-js-client) registers, renews, leaves and discovers here; what it
registers, /v1 readers see, and what /v1 clients register, it sees. Writes
need a registry credential, sent as HTTP Basic `name:token` in the client's
server URL (auth.py). registry/README.md says what is and is not covered.

The status codes are Eureka's, which its clients check: a registration
answers 204, a renewal and a cancel 200, an unknown instance 404 (the
client then registers again). Errors are problem+json all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from polyshop_common.problems import Problem
from registry.api import renew_lease, shared_answer, store_registration
from registry.auth import credential_required, owner_for
from registry.context import current_answers, current_rules, current_store
from registry.eureka_format import (
    JSON,
    XML,
    NotEurekaXml,
    applications,
    encode,
    from_xml,
    instance_bytes,
    instance_doc,
    parse_instance,
)
from registry.models import Instance
from registry.serialize import log_fields
from registry.validation import parse_registration, parse_service_name

# How far back a delta read reaches: Eureka's own server keeps three minutes.
DELTA_WINDOW_SECONDS = 180.0

bp = Blueprint("eureka", __name__, url_prefix="/eureka")
log = logging.getLogger(__name__)


@bp.post("/apps/<app>")
@credential_required
def register(app: str) -> ResponseReturnValue:
    service = _service(app)
    owner = owner_for(service)
    asked = parse_instance(_body())
    if asked is None:
        raise Problem(400, "Invalid registration", "The body has no 'instance'.")
    if asked.app is not None and asked.app.lower() != service:
        raise Problem(400, "Invalid registration", f"The body's app {asked.app!r} is not {app!r}.")
    registration = parse_registration(service, asked.fields, current_rules())
    store = current_store()
    if asked.status != "UP":  # STARTING, DOWN, OUT_OF_SERVICE: not to be routed to
        store.deregister(service, registration.instance_id, owner)
        return "", 204
    store_registration(service, replace(registration, lease_seconds=asked.lease_seconds), owner)
    return "", 204


@bp.put("/apps/<app>/<instance_id>")
@credential_required
def renew(app: str, instance_id: str) -> ResponseReturnValue:
    renew_lease(_service(app), instance_id)
    return "", 200


@bp.delete("/apps/<app>/<instance_id>")
@credential_required
def cancel(app: str, instance_id: str) -> ResponseReturnValue:
    service = _service(app)
    if not current_store().deregister(service, instance_id, owner_for(service)):
        raise _unknown(app, instance_id)
    log.info("instance deregistered", extra={**log_fields(service, instance_id), "api": "eureka"})
    return "", 200


@bp.put("/apps/<app>/<instance_id>/status")
@credential_required
def set_status(app: str, instance_id: str) -> ResponseReturnValue:
    """UP keeps the instance listed; any other status takes it out of every read."""
    service = _service(app)
    store, owner = current_store(), owner_for(service)
    if store.instance(service, instance_id) is None:
        raise _unknown(app, instance_id)
    if request.args.get("value", "UP").upper() != "UP":
        store.deregister(service, instance_id, owner)
    return "", 200


@bp.get("/apps/", strict_slashes=False)
def whole_registry() -> Response:
    return _shared("eureka", _whole_registry)


@bp.get("/apps/delta")
def delta() -> Response:
    return _shared("eureka-delta", _recent_changes)


@bp.get("/apps/<app>")
def application(app: str) -> Response:
    service = _service(app)
    instances = current_store().service_snapshot(service).services.get(service)
    if not instances:
        raise Problem(404, "Unknown application", f"No live instance of {app!r}.")
    docs = [_doc(instance) for instance in instances]
    return _reply({"application": {"name": service.upper(), "instance": docs}})


@bp.get("/apps/<app>/<instance_id>")
def app_instance(app: str, instance_id: str) -> Response:
    instance = current_store().instance(_service(app), instance_id)
    if instance is None:
        raise _unknown(app, instance_id)
    return _reply({"instance": _doc(instance)})


@bp.get("/instances/<instance_id>")
def any_instance(instance_id: str) -> Response:
    for instances in current_store().snapshot().services.values():
        for instance in instances:
            if instance.instance_id == instance_id:
                return _reply({"instance": _doc(instance)})
    raise Problem(404, "Unknown instance", f"No live instance {instance_id!r}.")


def _whole_registry(mimetype: str) -> bytes:
    snapshot = current_store().snapshot()
    # Joined from each instance's kept bytes: answers.Fragments says why.
    fragments = current_answers().fragments(
        f"eureka {mimetype}", lambda instance: instance_bytes(_doc(instance), mimetype)
    )
    apps = {name.upper(): docs for name, docs in fragments.of(snapshot.services).items()}
    up = sum(len(instances) for instances in snapshot.services.values())
    return applications(snapshot.index, up, apps, mimetype)


def _recent_changes(mimetype: str) -> bytes:
    store = current_store()
    index, changed = store.changed_within(DELTA_WINDOW_SECONDS)
    apps: dict[str, list[bytes]] = {}
    for instance, gone in changed:
        doc = _doc(instance, "DELETED" if gone else "ADDED")
        apps.setdefault(instance.service.upper(), []).append(instance_bytes(doc, mimetype))
    return applications(index, sum(store.instance_counts().values()), apps, mimetype)


def _shared(name: str, build: Callable[[str], bytes]) -> Response:
    """Built once per change index and format, for every reader (answers.py)."""
    mimetype, store = _format(), current_store()

    def render() -> tuple[int, bytes]:
        return store.index, build(mimetype)

    answer = current_answers().answer((name, mimetype), store.index, render, store.renewals)
    return shared_answer(answer, mimetype)


def _reply(doc: dict[str, Any]) -> Response:
    mimetype = _format()
    return Response(encode(doc, mimetype), mimetype=mimetype)


def _format() -> str:
    """JSON if the client asks for it, else XML, as Eureka's server does."""
    return request.accept_mimetypes.best_match([XML, JSON], default=XML) or XML


def _doc(instance: Instance, action: str | None = None) -> dict[str, Any]:
    lease = instance.lease_seconds or current_store().lease_ttl_seconds
    return instance_doc(instance, lease, action)


def _body() -> object:
    if request.mimetype.endswith("xml"):
        try:
            return from_xml(request.get_data())
        except NotEurekaXml:
            raise Problem(400, "Malformed XML", "The body is not XML the registry reads.") from None
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "Send the body as JSON or XML.")
    body = request.get_json(silent=True)
    if body is None:
        raise Problem(400, "Malformed JSON", "The body is not valid JSON.")
    return body


def _service(app: str) -> str:
    return parse_service_name(app.lower())


def _unknown(app: str, instance_id: str) -> Problem:
    detail = f"No live instance {instance_id!r} of {app!r}: register it again."
    return Problem(404, "Unknown instance", detail)
