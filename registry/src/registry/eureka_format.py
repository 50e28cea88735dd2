"""Eureka's shapes of an instance and of the registry, in JSON and in XML.

Eureka writes the same tree two ways: in JSON a field `"@name"` is what XML
writes as an attribute and `"$"` is an element's text (`"port": {"$": 8080,
"@enabled": "true"}` is `<port enabled="true">8080</port>`). `to_xml` and
`from_xml` turn one into the other, so the rest reads and writes JSON's shape.

An instance registered either way is shown either way: an app name is a
service name in upper case, `vipAddress` is the service name, and the
instance is listed as UP (the registry lists only live instances).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from registry.models import Instance
from registry.serialize import compact_json

XML, JSON = "application/xml", "application/json"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
DATA_CENTER = {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")


class NotEurekaXml(ValueError):
    """The body is not XML, or XML that a safe parser refuses (entities, DTDs)."""


def _millis(seconds: float) -> int:
    return int(seconds * 1000)


def instance_doc(
    instance: Instance, lease_seconds: float, action: str | None = None
) -> dict[str, Any]:
    """One instance as Eureka shows it; `action` (ADDED, MODIFIED, DELETED) in a delta."""
    base = f"http://{instance.host}:{instance.port}"
    registered, renewed = _millis(instance.registered_at), _millis(instance.lease.last_heartbeat_at)
    doc: dict[str, Any] = {
        "instanceId": instance.instance_id,
        "hostName": instance.host,
        "app": instance.service.upper(),
        "ipAddr": instance.host,
        "status": "UP",
        "overriddenStatus": "UNKNOWN",
        "port": {"$": instance.port, "@enabled": "true"},
        "securePort": {"$": 443, "@enabled": "false"},
        "countryId": 1,
        "dataCenterInfo": DATA_CENTER,
        "leaseInfo": {
            "renewalIntervalInSecs": max(1, int(lease_seconds / 3)),
            "durationInSecs": int(lease_seconds),
            "registrationTimestamp": registered,
            "lastRenewalTimestamp": renewed,
            "evictionTimestamp": 0,
            "serviceUpTimestamp": registered,
        },
        "metadata": instance.metadata,
        "homePageUrl": f"{base}/",
        "statusPageUrl": f"{base}/",
        "healthCheckUrl": instance.health_url or f"{base}/",
        "vipAddress": instance.service,
        "secureVipAddress": instance.service,
        "isCoordinatingDiscoveryServer": "false",
        "lastUpdatedTimestamp": str(registered),
        "lastDirtyTimestamp": str(registered),
    }
    if action is not None:
        doc["actionType"] = action
    return doc


def applications(index: int, up: int, apps: dict[str, list[bytes]], mimetype: str) -> bytes:
    """The whole registry (or a delta), joined from each instance's rendered
    bytes (`instance_bytes`), by app name.

    `up` is how many instances the registry lists: Eureka clients compare
    `apps__hashcode` with their own copy's after applying a delta, and read
    everything again when the two differ.
    """
    hashcode = f"UP_{up}_" if up else ""
    if mimetype == XML:
        head = (
            f"<versions__delta>{index}</versions__delta><apps__hashcode>{hashcode}</apps__hashcode>"
        )
        body = b"".join(
            b"<application><name>" + name.encode() + b"</name>" + b"".join(docs) + b"</application>"
            for name, docs in apps.items()
        )
        return XML_DECLARATION + b"<applications>" + head.encode() + body + b"</applications>"
    versions = {"versions__delta": str(index), "apps__hashcode": hashcode}
    head = b'{"applications":' + compact_json(versions)[:-1] + b',"application":['
    body = b",".join(
        b'{"name":' + compact_json(name) + b',"instance":[' + b",".join(docs) + b"]}"
        for name, docs in apps.items()
    )
    return head + body + b"]}}"


def instance_bytes(doc: dict[str, Any], mimetype: str) -> bytes:
    """One instance doc as an element of `applications`: `<instance>` in XML."""
    return to_xml({"instance": doc}, declaration=False) if mimetype == XML else compact_json(doc)


def encode(root: dict[str, Any], mimetype: str) -> bytes:
    """A one-key document (`{"instance": ...}`) as JSON or XML."""
    return to_xml(root) if mimetype == XML else compact_json(root)


def to_xml(root: dict[str, Any], declaration: bool = True) -> bytes:
    """A one-key document (`{"instance": ...}`) as XML."""
    [(tag, value)] = root.items()
    element = ElementTree.Element(tag)
    _fill(element, value)
    body = ElementTree.tostring(element, encoding="unicode").encode()
    return XML_DECLARATION + body if declaration else body


def _fill(element: ElementTree.Element, value: Any) -> None:
    if not isinstance(value, dict):
        element.text = str(value).lower() if isinstance(value, bool) else str(value)
        return
    for key, item in value.items():
        if key.startswith("@"):
            element.set(key[1:], str(item))
        elif key == "$":
            element.text = str(item)
        elif XML_NAME.fullmatch(key):  # a metadata key XML cannot name is left out
            for one in item if isinstance(item, list) else [item]:
                _fill(ElementTree.SubElement(element, key), one)


def from_xml(body: bytes) -> dict[str, Any]:
    """XML as JSON's shape: `<instance>...</instance>` as `{"instance": {...}}`."""
    try:
        root = SafeElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise NotEurekaXml(str(error)) from None
    return {root.tag: _ascompact_json(root)}


def _ascompact_json(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip()
    doc: dict[str, Any] = {f"@{name}": value for name, value in element.attrib.items()}
    for child in children:
        doc[child.tag] = _ascompact_json(child)
    if not children:
        doc["$"] = (element.text or "").strip()
    return doc


MAX_LEASE_SECONDS = 90.0  # Eureka's default; a longer lease asked for is cut to it


@dataclass(frozen=True)
class EurekaRegistration:
    app: str | None  # as the body names it; None when it does not
    status: str
    lease_seconds: float | None
    fields: dict[str, object]  # the registry's own registration body


def parse_instance(doc: object) -> EurekaRegistration | None:
    """What a registration body (`{"instance": {...}}`) asks for; None if it has no instance.

    The address is `ipAddr` (or `hostName` without one) and `port`'s `$`;
    the id is `instanceId`, else `hostName`, as Eureka's own server does.
    The fields are checked afterwards by the same rules as any registration.
    """
    instance = doc.get("instance") if isinstance(doc, dict) else None
    if not isinstance(instance, dict):
        return None
    port = instance.get("port")
    port = port.get("$") if isinstance(port, dict) else port
    metadata = instance.get("metadata")
    if isinstance(metadata, dict):  # Java clients mark an empty map with "@class"
        metadata = {k: v for k, v in metadata.items() if not k.startswith("@")}
    fields = {
        "instance_id": instance.get("instanceId") or instance.get("hostName"),
        "host": instance.get("ipAddr") or instance.get("hostName"),
        "port": int(port) if isinstance(port, str) and port.isdigit() else port,
        "health_url": instance.get("healthCheckUrl") or None,
        "metadata": metadata or None,
    }
    return EurekaRegistration(
        app=instance.get("app") if isinstance(instance.get("app"), str) else None,
        status=str(instance.get("status") or "UP").upper(),
        lease_seconds=_lease_seconds(instance.get("leaseInfo")),
        fields=fields,
    )


def _lease_seconds(lease_info: object) -> float | None:
    duration = lease_info.get("durationInSecs") if isinstance(lease_info, dict) else None
    try:
        seconds = float(duration)  # a number in JSON, text in XML
    except (TypeError, ValueError):
        return None
    return min(seconds, MAX_LEASE_SECONDS) if seconds >= 1 else None
