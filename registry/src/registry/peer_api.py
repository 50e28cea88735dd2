"""What registries send each other (peers.py), under /v1/peers.

Only a registry may call these: the request must carry the token the
registries share (`REGISTRY_PEER_TOKEN`); without one set, a registry has
no peers and these paths answer 404. Every answer names this registry's
node, so a registry that reached itself knows it.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from polyshop_common.problems import Problem
from registry.context import current_settings, current_store
from registry.peers import NODE_HEADER, apply_writes, instance_wire

PEERS_EXTENSION = "registry.peers"
# A peer that was away is sent every instance at once: up to 20,000 of them.
MAX_WRITES_BYTES = 16 * 1024 * 1024

bp = Blueprint("peers", __name__, url_prefix="/v1/peers")


@bp.before_request
def peer_required() -> None:
    token = current_settings().peer_token
    if not token:
        raise Problem(404, "Not Found", "This registry has no peers (REGISTRY_PEER_TOKEN).")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise Problem(401, "Unauthorized", "Only a peer registry, with the peers' token.")


@bp.after_request
def name_the_node(response: Response) -> Response:
    if (peers := current_app.extensions.get(PEERS_EXTENSION)) is not None:
        response.headers[NODE_HEADER] = peers.node
    return response


@bp.post("/writes")
def writes() -> ResponseReturnValue:
    request.max_content_length = MAX_WRITES_BYTES
    if _from_itself():
        return {"unknown": []}
    try:
        body = request.get_json()
        unknown = apply_writes(current_store(), body)
    except (BadRequest, KeyError, TypeError, ValueError, AttributeError):
        raise Problem(400, "Bad writes", "Not the writes of a peer registry.") from None
    return {"unknown": [list(key) for key in unknown]}


@bp.get("/instances")
def instances() -> Response:
    held = current_store().leases()
    return jsonify({"instances": [instance_wire(i, left) for i, left in held]})


def _from_itself() -> bool:
    """A registry that lists its own address sends to itself until it learns so."""
    peers = current_app.extensions.get(PEERS_EXTENSION)
    return peers is not None and request.headers.get(NODE_HEADER) == peers.node
