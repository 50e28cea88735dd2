"""The rules of contracts/auth.json that issuer and verifiers share: the
algorithm, audiences, lifetimes and paths. A module of its own, without
Flask or a JWT library, so a gunicorn master can check settings against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from polyshop_common.settings import read_auth_contract


@dataclass(frozen=True)
class TokenRules:
    """The numbers of contracts/auth.json, read once."""

    algorithm: str
    user_audience: str
    service_prefix: str
    max_user_seconds: int
    max_service_seconds: int
    service_token_seconds: int
    leeway_seconds: int
    metadata_path: str
    jwks_path: str
    service_token_path: str

    @classmethod
    def load(cls) -> TokenRules:
        c = read_auth_contract()
        return cls(
            algorithm=c["algorithm"],
            user_audience=c["user_audience"],
            service_prefix=c["service_prefix"],
            max_user_seconds=c["max_user_token_seconds"],
            max_service_seconds=c["max_service_token_seconds"],
            service_token_seconds=c["service_token_seconds"],
            leeway_seconds=c["leeway_seconds"],
            metadata_path=c["metadata_path"],
            jwks_path=c["jwks_path"],
            service_token_path=c["service_token_path"],
        )

    def service_audience(self, service: str) -> str:
        return self.service_prefix + service


RULES = TokenRules.load()
