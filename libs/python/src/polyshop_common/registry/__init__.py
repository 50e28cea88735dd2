"""The Python registry client: register and heartbeat (Registration), find
instances from a local cache kept fresh by a long poll (Discovery)."""

from polyshop_common.registry.api import RegistryApi, RegistryError
from polyshop_common.registry.discovery import Discovery
from polyshop_common.registry.registration import Registration

__all__ = ["Discovery", "Registration", "RegistryApi", "RegistryError"]
