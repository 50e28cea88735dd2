"""The registry's HTTP API under /v1: register, renew, leave, read and watch.

Views stay thin: check the request, call the store, shape the answer.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from polyshop_common.problems import Problem
from registry.auth import token_required
from registry.context import current_settings, current_store
from registry.models import Instance
from registry.serialize import eviction_json, instance_json, lease_json, log_fields
from registry.validation import parse_registration, parse_service_name
from registry.watch import watched_snapshot

INDEX_HEADER = "X-Registry-Index"

bp = Blueprint("api", __name__, url_prefix="/v1")
log = logging.getLogger(__name__)


@bp.post("/services/<name>/instances")
@token_required
def register(name: str) -> ResponseReturnValue:
    service = parse_service_name(name)
    registration = parse_registration(service, _json_body())
    instance, created = current_store().register(service, registration)
    if created:
        log.info("instance registered", extra=log_fields(service, instance.instance_id))
    location = url_for(".get_instance", name=service, instance_id=instance.instance_id)
    return _lease_answer(instance), 201, {"Location": location}


@bp.put("/services/<name>/instances/<instance_id>/heartbeat")
@token_required
def heartbeat(name: str, instance_id: str) -> ResponseReturnValue:
    instance = current_store().heartbeat(parse_service_name(name), instance_id)
    if instance is None:
        raise _unknown_instance(name, instance_id)
    return _lease_answer(instance)


@bp.delete("/services/<name>/instances/<instance_id>")
@token_required
def deregister(name: str, instance_id: str) -> ResponseReturnValue:
    if not current_store().deregister(parse_service_name(name), instance_id):
        raise _unknown_instance(name, instance_id)
    log.info("instance deregistered", extra=log_fields(name, instance_id))
    return "", 204


@bp.get("/services")
def list_services() -> Response:
    snapshot = watched_snapshot(request.args)
    services = {
        name: [instance_json(instance) for instance in instances]
        for name, instances in snapshot.services.items()
    }
    return _read_answer({"services": services}, snapshot.index)


@bp.get("/services/<name>")
def get_service(name: str) -> Response:
    service = parse_service_name(name)
    snapshot = watched_snapshot(request.args, service)
    instances = [instance_json(instance) for instance in snapshot.services.get(service, [])]
    return _read_answer({"name": service, "instances": instances}, snapshot.index)


@bp.get("/services/<name>/instances/<instance_id>")
def get_instance(name: str, instance_id: str) -> Response:
    store = current_store()
    instance = store.instance(parse_service_name(name), instance_id)
    if instance is None:
        raise _unknown_instance(name, instance_id)
    return _read_answer(instance_json(instance), store.index)


@bp.get("/evictions")
def list_evictions() -> Response:
    store = current_store()
    evictions = [eviction_json(eviction) for eviction in store.evictions()]
    return _read_answer({"evictions": evictions}, store.index)


def _json_body() -> object:
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "Send the body as application/json.")
    try:
        return request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: nested too deep to parse
        raise Problem(400, "Malformed JSON", "The body is not valid JSON.") from None


def _lease_answer(instance: Instance) -> dict[str, object]:
    return lease_json(instance, current_settings().lease_ttl_seconds)


def _read_answer(body: dict[str, object], index: int) -> Response:
    response = jsonify(body)
    response.headers[INDEX_HEADER] = str(index)
    return response


def _unknown_instance(service: str, instance_id: str) -> Problem:
    detail = (
        f"No live instance {instance_id!r} of service {service!r}: its lease ended "
        "or the registry restarted. Register it again."
    )
    return Problem(404, "Unknown instance", detail)
