"""API tokens as an administrator handles them: create (shown once), list (no secrets), revoke; the CLI bootstrap."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from backend_helpers import seed_site
from fastapi.testclient import TestClient

from backend.settings import BackendSettings
from backend.tokens import TOKEN_RE, digest


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(client: TestClient, settings: BackendSettings) -> None:
    seed_site(client)
    r = client.post("/api/v1/tokens", json={"role": "farmer", "field_ids": ["paddy-1"], "label": "山田さん"})
    assert r.status_code == 201, r.text
    made = r.json()
    token = made["token"]
    assert TOKEN_RE.fullmatch(token) and made["role"] == "farmer" and made["field_ids"] == ["paddy-1"]
    farmer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/fields/paddy-1", headers=farmer).status_code == 200
    listed = client.get("/api/v1/tokens").json()
    assert [t["label"] for t in listed if t["id"] == made["id"]] == ["山田さん"]
    assert token not in client.get("/api/v1/tokens").text and "token_sha256" not in client.get("/api/v1/tokens").text
    # At rest: the registry file holds the hash, never the token.
    raw = b"".join(p.read_bytes() for p in Path(settings.registry.path).parent.glob("registry.sqlite3*"))
    assert token.encode() not in raw and digest(token).encode() in raw
    assert client.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    assert client.get("/api/v1/fields/paddy-1", headers=farmer).status_code == 401
    assert made["id"] not in [t["id"] for t in client.get("/api/v1/tokens").json()]
    assert [t["revoked_at"] is not None for t in client.get("/api/v1/tokens", params={"revoked": "true"}).json()
            if t["id"] == made["id"]] == [True]
    assert client.delete("/api/v1/tokens/424242").status_code == 404


@pytest.mark.parametrize("body, field, message", [
    ({"role": "farmer"}, "field_ids", "at least one field"),
    ({"role": "farmer", "field_ids": ["no-such-field"]}, "field_ids", "'no-such-field' is not in the registry"),
    ({"role": "road", "field_ids": ["paddy-1"]}, "field_ids", "only farmer tokens"),
    ({"role": "mayor"}, "role", ""),
], ids=["a farmer token without fields", "a farmer token for a field that does not exist",
        "a road token tied to a field", "a role that does not exist"])
def test_bad_token_requests_name_the_field(client: TestClient, body: dict, field: str, message: str) -> None:
    seed_site(client)
    r = client.post("/api/v1/tokens", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == field and message in r.json()["detail"][0]["msg"]


def test_cli_bootstraps_lists_and_revokes_tokens_offline(settings: BackendSettings, tmp_path: Path) -> None:
    toml = tmp_path / "backend.toml"
    toml.write_text(f'[registry]\npath = "{settings.registry.path}"\n')
    exe = [str(Path(sys.executable).with_name("yukimizu")), "api", "token"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*exe, *args, "--config", str(toml)], capture_output=True, text=True, timeout=60)

    made = run("create", "--role", "farmer", "--fields", "f-01,f-02", "--label", "pilot")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert TOKEN_RE.fullmatch(token)
    assert "f-01, f-02" in made.stderr and "not shown again" in made.stderr
    assert "field 'f-01' is not in the registry" in made.stderr  # a warning: fields may be imported later
    listed = run("list")
    assert "farmer\tf-01,f-02\tpilot" in listed.stdout and token not in listed.stdout
    assert run("revoke", "1").returncode == 0
    assert "\trevoked " in run("list", "--all").stdout
    bad = run("create", "--role", "farmer")
    assert bad.returncode == 2 and "at least one field" in bad.stderr
