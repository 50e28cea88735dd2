"""Secrets for one shop, generated, never committed (docs/security.md).

    python -m polyshop_dev.secrets DIR [--owner node=1000 --owner python=10001]
    eval "$(python -m polyshop_dev.secrets DIR --env PIECE)"   # before starting PIECE alone
    python -m polyshop_dev.secrets DIR --registrant NAME       # a credential for a new service

writes, once (files that exist are kept, so `make up` keeps its secrets per
checkout):

    DIR/registry/credentials.json     SHA-256 of each piece's registry token
    DIR/registry/peer-token           the token registries side by side share
    DIR/gateway/signing-key.pem       the issuer's Ed25519 private key
    DIR/gateway/clients.json          SHA-256 of each client secret, and its callees
    DIR/<service>/registry-token      each service's own registry credential
    DIR/<service>/client-secret       for services that call others
    DIR/storefront/session-secret, operator-token

Each piece is given its own folder only (compose mounts one folder per
container), so a service never holds another's credential or the signing key.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
from pathlib import Path

from polyshop_common.signing import SigningKey, secret_digest

# Which services each service calls with a service token of its own.
CALLEES = {"notifications": ["orders"], "storefront": ["inventory"]}
REGISTRANTS = ("catalog", "inventory", "payments", "orders", "notifications", "storefront")
STOREFRONT_SECRETS = ("session-secret", "operator-token")
LANGUAGES = {
    "registry": "python",
    "gateway": "python",
    "catalog": "python",
    "orders": "python",
    "payments": "python",
    "inventory": "node",
    "notifications": "node",
    "storefront": "node",
}


def generate(folder: Path, extra_registrants: dict[str, list[str]] | None = None) -> Path:
    """Write what is missing; `extra_registrants`: credential name -> service names.

    Credentials added by an earlier call stay (a test's extra registrant,
    say), so calling it again never takes a piece's credential away.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    credentials_file = folder / "registry" / "credentials.json"
    registrants = {name: [name] for name in REGISTRANTS}
    if credentials_file.exists():
        known = json.loads(credentials_file.read_text(encoding="utf-8"))["credentials"]
        registrants |= {entry["name"]: entry["services"] for entry in known}
    registrants |= extra_registrants or {}
    tokens = {name: _secret(folder / name / "registry-token") for name in registrants}
    _write_json(
        credentials_file,
        {
            "credentials": [
                {"name": name, "token_sha256": secret_digest(tokens[name]), "services": services}
                for name, services in registrants.items()
            ]
        },
    )
    key_file = folder / "gateway" / "signing-key.pem"
    if not key_file.exists():
        _write(key_file, SigningKey.generate().pem().decode())
    _write_json(
        folder / "gateway" / "clients.json",
        {
            "clients": [
                {
                    "client_id": caller,
                    "secret_sha256": secret_digest(_secret(folder / caller / "client-secret")),
                    "audiences": callees,
                }
                for caller, callees in CALLEES.items()
            ]
        },
    )
    _secret(folder / "registry" / "peer-token")
    for name in STOREFRONT_SECRETS:
        _secret(folder / "storefront" / name)
    return folder


def piece_env(piece: str, folder: Path) -> dict[str, str]:
    """The `*_FILE` settings that point a piece at its own secrets."""
    own = folder / piece
    env = {}
    if piece == "registry":
        env["REGISTRY_CREDENTIALS_FILE"] = str(own / "credentials.json")
        env["REGISTRY_PEER_TOKEN_FILE"] = str(own / "peer-token")
    elif piece == "gateway":
        env["JWT_SIGNING_KEY_FILE"] = str(own / "signing-key.pem")
        env["AUTH_CLIENTS_FILE"] = str(own / "clients.json")
    else:
        env["REGISTRY_TOKEN_FILE"] = str(own / "registry-token")
    if piece in CALLEES:
        env["AUTH_CLIENT_SECRET_FILE"] = str(own / "client-secret")
    if piece == "storefront":
        env["SESSION_SECRET_FILE"] = str(own / "session-secret")
        env["OPERATOR_TOKEN_FILE"] = str(own / "operator-token")
    return env


def read(folder: Path, piece: str, name: str) -> str:
    return (folder / piece / name).read_text(encoding="utf-8").strip()


def _secret(path: Path) -> str:
    """The secret in `path`, made first if there is none: 32 random bytes, URL-safe."""
    if not path.exists():
        _write(path, secrets.token_urlsafe(32))
    return path.read_text(encoding="utf-8").strip()


def _write_json(path: Path, value: object) -> None:
    _write(path, json.dumps(value, indent=2) + "\n")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(path)  # a reader never sees half a file


def hand_over(folder: Path, owners: dict[str, int]) -> None:
    """Give each piece's folder to the user its image runs as (compose)."""
    for piece, language in LANGUAGES.items():
        uid = owners.get(language)
        own = folder / piece
        if uid is None or not own.is_dir():
            continue
        for path in [own, *own.iterdir()]:
            os.chown(path, uid, uid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--owner",
        action="append",
        default=[],
        metavar="LANGUAGE=UID",
        help="hand each piece's folder to this user id, by the language of its image",
    )
    parser.add_argument(
        "--env",
        metavar="PIECE",
        help="print the shell lines that give PIECE its secrets, in development mode",
    )
    parser.add_argument(
        "--registrant",
        action="append",
        default=[],
        metavar="NAME",
        help="add a registry credential for a service of your own, which may register NAME only "
        "(the registry reads its credentials when it starts)",
    )
    args = parser.parse_args()
    generate(args.folder, {name: [name] for name in args.registrant})
    if args.env:
        if args.env not in LANGUAGES and not (args.folder / args.env / "registry-token").exists():
            parser.error(f"no secrets for {args.env}: add it with --registrant {args.env}")
        print(shell_lines(args.env, args.folder.resolve()))
        return
    owners = {lang: int(uid) for lang, _, uid in (o.partition("=") for o in args.owner)}
    hand_over(args.folder, owners)
    print(f"secrets ready in {args.folder}")


def shell_lines(piece: str, folder: Path) -> str:
    env = {"POLYSHOP_MODE": "development", **piece_env(piece, folder)}
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in env.items())


if __name__ == "__main__":
    main()
