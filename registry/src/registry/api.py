"""The registry's HTTP API under /v1: register, renew, leave, read and watch.

Views stay thin: check the request, call the store, shape the answer.
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from polyshop_common.problems import Problem, problem_response
from registry.answers import Answer
from registry.auth import credential_name, credential_required, owner_for
from registry.context import current_answers, current_rules, current_settings, current_store
from registry.metrics import HEARTBEATS
from registry.models import Instance, Registration, Snapshot
from registry.serialize import (
    compact_json,
    delta_json,
    eviction_json,
    instance_json,
    lease_json,
    log_fields,
)
from registry.store import Full, NotTheOwner
from registry.validation import parse_registration, parse_service_name
from registry.watch import watched_answer, watched_delta

INDEX_HEADER = "X-Registry-Index"
# Below this a gzipped body saves less than its own header and the CPU cost.
MIN_GZIP_BYTES = 1024

bp = Blueprint("api", __name__, url_prefix="/v1")
log = logging.getLogger(__name__)


@bp.post("/services/<name>/instances")
@credential_required
def register(name: str) -> ResponseReturnValue:
    service = parse_service_name(name)
    owner = owner_for(service)
    registration = parse_registration(service, _json_body(), current_rules())
    instance = store_registration(service, registration, owner)
    location = url_for(".get_instance", name=service, instance_id=instance.instance_id)
    return _lease_answer(instance), 201, {"Location": location}


@bp.put("/services/<name>/instances/<instance_id>/heartbeat")
@credential_required
def heartbeat(name: str, instance_id: str) -> ResponseReturnValue:
    return _lease_answer(renew_lease(parse_service_name(name), instance_id))


@bp.delete("/services/<name>/instances/<instance_id>")
@credential_required
def deregister(name: str, instance_id: str) -> ResponseReturnValue:
    service = parse_service_name(name)
    if not current_store().deregister(service, instance_id, owner_for(service)):
        raise _unknown_instance(name, instance_id)
    log.info("instance deregistered", extra=log_fields(name, instance_id))
    return "", 204


@bp.get("/services")
def list_services() -> Response:
    if "since" in request.args:  # only what changed: see watch.py
        return shared_answer(watched_delta(request.args, lambda d: compact_json(delta_json(d))))

    def render(snapshot: Snapshot) -> bytes:
        # Joined from each instance's kept bytes: answers.Fragments says why.
        fragments = current_answers().fragments("v1", lambda i: compact_json(instance_json(i)))
        services = b",".join(
            compact_json(name) + b":[" + b",".join(instances) + b"]"
            for name, instances in fragments.of(snapshot.services).items()
        )
        return b'{"services":{' + services + b"}}"

    return shared_answer(watched_answer(request.args, None, render))


@bp.get("/services/<name>")
def get_service(name: str) -> Response:
    service = parse_service_name(name)

    def render(snapshot: Snapshot) -> bytes:
        instances = [instance_json(instance) for instance in snapshot.services.get(service, [])]
        return compact_json({"name": service, "instances": instances})

    return shared_answer(watched_answer(request.args, service, render))


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


def store_registration(service: str, registration: Registration, owner: str) -> Instance:
    """Register (or renew) the instance, saying so in the log when it is new."""
    instance, created = current_store().register(service, registration, owner)
    if created:
        fields = {**log_fields(service, instance.instance_id), "credential": owner}
        log.info("instance registered", extra=fields)
    return instance


def renew_lease(service: str, instance_id: str) -> Instance:
    """Renew the instance's lease, or answer 404: the client registers again."""
    instance = current_store().heartbeat(service, instance_id, owner_for(service))
    if instance is None:
        raise _unknown_instance(service, instance_id)
    HEARTBEATS.labels(service).inc()
    return instance


@bp.errorhandler(NotTheOwner)
def _not_the_owner(error: NotTheOwner) -> Response:
    fields = {**log_fields(error.service, error.instance_id), "credential": credential_name()}
    log.warning("write refused: credential %r registered the instance", error.owner, extra=fields)
    detail = (
        "Another registry credential registered this instance: only that one may "
        "renew, change or remove it."
    )
    return problem_response(403, "Forbidden", detail)


@bp.errorhandler(Full)
def _full(error: Full) -> Response:
    if error.scope == "service":
        detail = f"The service has its limit of {error.limit} instances."
    else:
        detail = f"The registry holds its limit of {error.limit} instances."
    # Room comes back as instances leave or miss their heartbeats.
    retry_after = str(math.ceil(current_settings().lease_ttl_seconds))
    headers = {"Retry-After": retry_after}
    return problem_response(429, "Too many instances", detail, headers=headers)


def _json_body() -> object:
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "Send the body as application/json.")
    try:
        return request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: nested too deep to parse
        raise Problem(400, "Malformed JSON", "The body is not valid JSON.") from None


def _lease_answer(instance: Instance) -> dict[str, object]:
    return lease_json(instance, instance.lease_seconds or current_settings().lease_ttl_seconds)


def shared_answer(answer: Answer, mimetype: str = "application/json") -> Response:
    """The answer's bytes, gzipped if the reader accepts it and they are worth it."""
    gzipped = request.accept_encodings["gzip"] > 0 and len(answer.body) >= MIN_GZIP_BYTES
    body = answer.gzipped() if gzipped else answer.body
    response = current_app.response_class(body, mimetype=mimetype)
    if gzipped:
        response.content_encoding = "gzip"
    response.vary.add("Accept-Encoding")
    response.headers[INDEX_HEADER] = str(answer.index)
    return response


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
