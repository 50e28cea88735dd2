"""Which hosts an instance may register: the gateway sends requests there.

A registration says where callers connect, so a careless one turns the
gateway into a proxy to wherever it points (server-side request forgery). A
host is therefore a DNS name (RFC 1123 labels) or an IP address, and nothing
more: no user, port, path or query. Some addresses never hold a service and
are refused always: link-local (where clouds serve instance metadata, as at
169.254.169.254), unspecified, multicast and broadcast. With allowed networks
set (REGISTRY_ALLOWED_NETWORKS), an address must be inside one of them.

A name is checked by what it resolves to when it registers. DNS may answer
otherwise later: a caller that must be sure checks the address it connects to.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolve = Callable[[str], list[str]]

MAX_HOST_LENGTH = 253
LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
HOSTNAME = re.compile(rf"{LABEL}(?:\.{LABEL})*")
BROADCAST = ipaddress.IPv4Address("255.255.255.255")

SHAPE = (
    f"must be a host name (letters, digits and '-' in labels separated by '.') or an "
    f"IP address (IPv6 without brackets), at most {MAX_HOST_LENGTH} characters, "
    "with no user, port, path or query"
)
NUMERIC = "must write an IPv4 address as four decimal numbers, as 10.0.0.7"
REFUSED = "must not be a link-local, unspecified, multicast or broadcast address"
OUTSIDE = "must be inside the networks this registry allows"


def resolve_addresses(name: str) -> list[str]:
    """Every address `name` resolves to now; none when it does not resolve."""
    try:
        answers = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [str(answer[4][0]) for answer in answers]


def parse_networks(raw: str) -> tuple[Network, ...]:
    """Networks separated by commas, as 10.0.0.0/8,fd00::/8."""
    return tuple(ipaddress.ip_network(part.strip()) for part in raw.split(","))


@dataclass(frozen=True)
class HostPolicy:
    allowed_networks: tuple[Network, ...] = ()
    resolve: Resolve = resolve_addresses

    def check(self, value: object) -> str | None:
        """None when `value` may be registered as a host, else what is wrong with it."""
        if not isinstance(value, str) or not value:
            return "must be a non-empty string"
        if len(value) > MAX_HOST_LENGTH:
            return SHAPE
        address = _ip_literal(value)
        if address is not None:
            return self._check_address(address)
        if not HOSTNAME.fullmatch(value):
            return SHAPE
        if _is_numeric_ipv4(value):
            return NUMERIC
        return self._check_name(value)

    def _check_name(self, name: str) -> str | None:
        addresses = [_unmapped(ipaddress.ip_address(answer)) for answer in self.resolve(name)]
        if not addresses and self.allowed_networks:
            return f"{OUTSIDE} ({name!r} does not resolve)"
        for address in addresses:
            problem = self._check_address(address)
            if problem:
                return f"{problem} ({name!r} resolves to {address})"
        return None

    def _check_address(self, address: Address) -> str | None:
        if _never_a_service(address):
            return REFUSED
        if self.allowed_networks and not any(
            address in network for network in self.allowed_networks
        ):
            return OUTSIDE
        return None


def _ip_literal(value: str) -> Address | None:
    if "%" in value:  # an IPv6 scope ("fe80::1%eth0") means nothing to another machine
        return None
    try:
        return _unmapped(ipaddress.ip_address(value))
    except ValueError:
        return None


def _unmapped(address: Address) -> Address:
    """::ffff:10.0.0.7 is 10.0.0.7 to whoever connects: judge it as that."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_numeric_ipv4(value: str) -> bool:
    """True for the other spellings of IPv4 that resolvers accept: 2852039166, 0xa9fea9fe, 10.1."""
    try:
        socket.inet_aton(value)
    except OSError:
        return False
    return True


def _never_a_service(address: Address) -> bool:
    return (
        address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address == BROADCAST
    )
