import json
import stat

from polyshop_common.signing import SigningKey, secret_digest
from polyshop_dev import secrets


def test_every_piece_gets_its_own_secrets_and_the_registry_only_digests(tmp_path):
    folder = secrets.generate(tmp_path / "secrets")
    credentials = json.loads((folder / "registry" / "credentials.json").read_text())["credentials"]
    by_name = {entry["name"]: entry for entry in credentials}
    assert set(by_name) == set(secrets.REGISTRANTS)
    for name, entry in by_name.items():
        token = secrets.read(folder, name, "registry-token")
        assert len(token) >= 32
        assert entry == {"name": name, "token_sha256": secret_digest(token), "services": [name]}
    assert len({secrets.read(folder, n, "registry-token") for n in by_name}) == len(by_name)
    assert SigningKey.from_pem_file(folder / "gateway" / "signing-key.pem").kid
    key_mode = (folder / "gateway" / "signing-key.pem").stat().st_mode
    assert stat.S_IMODE(key_mode) == 0o600


def test_a_second_run_keeps_every_secret_and_extra_credentials(tmp_path):
    folder = secrets.generate(tmp_path / "s", {"agents": ["alpha", "beta"]})
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    secrets.generate(folder)
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_a_piece_is_pointed_at_its_own_folder_only(tmp_path):
    folder = tmp_path / "s"
    env = secrets.piece_env("notifications", folder)
    assert env == {
        "REGISTRY_TOKEN_FILE": str(folder / "notifications" / "registry-token"),
        "AUTH_CLIENT_SECRET_FILE": str(folder / "notifications" / "client-secret"),
    }
    assert all(str(folder / "gateway") in v for v in secrets.piece_env("gateway", folder).values())


def test_the_shell_lines_for_a_piece_started_alone(tmp_path):
    lines = secrets.shell_lines("registry", tmp_path).splitlines()
    assert lines == [
        "export POLYSHOP_MODE=development",
        f"export REGISTRY_CREDENTIALS_FILE={tmp_path / 'registry' / 'credentials.json'}",
        f"export REGISTRY_PEER_TOKEN_FILE={tmp_path / 'registry' / 'peer-token'}",
    ]
