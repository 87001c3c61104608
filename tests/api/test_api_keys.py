"""API keys: hashed storage, roles, admin routes, the first admin key, the CLI."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from api_support import hdr, make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.keys import ADMIN_KEY_FILE, KeyRing, ensure_admin_key, main
from api.security import Principal, Role, hash_secret, split_key, verify_secret
from matcher.store.db import Database
from matcher.store.models import ApiKeyRow


def test_secrets_are_hashed_with_salt() -> None:
    a, b = hash_secret("s3cret"), hash_secret("s3cret")
    assert a != b and "s3cret" not in a
    assert verify_secret("s3cret", a) and not verify_secret("other", a)
    assert split_key("pm_abcdef12_xyz") == ("abcdef12", "xyz")
    assert split_key("nonsense") is None


def test_role_rules() -> None:
    editor = Principal("key_1", Role.editor)
    assert editor.can_edit("key_1") and not editor.can_edit("key_2") and not editor.can_edit(None)
    assert not editor.can_see("key_2", published=False) and editor.can_see("key_2", True)
    assert Principal("key_3", Role.analyst).can_see_private("key_2")
    assert Principal("key_4", Role.admin).can_edit("key_2")
    assert not Principal().can_see_private(None)


def test_key_routes_are_admin_only(client: TestClient, keys: dict[str, str], app: FastAPI) -> None:
    r = client.post(
        "/v1/keys", json={"name": "new reader", "role": "reader"}, headers=hdr(keys["admin"])
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key"].startswith("pm_") and created["role"] == "reader"
    assert client.get("/v1/organisations/org-00001", headers=hdr(created["key"])).status_code == 200
    rows = app.state.api.db
    with rows.session() as s:
        stored = s.scalar(select(ApiKeyRow).where(ApiKeyRow.id == created["id"]))
        assert stored is not None and created["key"] not in stored.key_hash
        assert created["key"].split("_", 2)[2] not in stored.key_hash
    listed = client.get("/v1/keys", headers=hdr(keys["admin"])).json()
    assert created["id"] in {k["id"] for k in listed} and all("key" not in k for k in listed)
    assert client.get("/v1/keys", headers=hdr(keys["analyst"])).status_code == 403
    assert client.get("/v1/keys").status_code == 401
    r = client.delete(f"/v1/keys/{created['id']}", headers=hdr(keys["admin"]))
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert client.get("/v1/organisations/org-00001", headers=hdr(created["key"])).status_code == 401


def test_first_admin_key_is_written_once_with_0600(tmp_path: Path) -> None:
    db = Database(make_settings(tmp_path).sqlalchemy_url)
    db.create_all()
    ring = KeyRing(db)
    key = ensure_admin_key(ring, tmp_path)
    assert key is not None
    path = tmp_path / ADMIN_KEY_FILE
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_admin_key(ring, tmp_path) is None
    principal = ring.authenticate(key)
    assert principal is not None and principal.role is Role.admin
    db.dispose()


def test_workers_starting_together_make_one_first_admin_key(tmp_path: Path) -> None:
    """`make run WORKERS=2` on a fresh data dir: both workers found no admin key and each made
    one (two printed, one kept in admin-key.txt, the other live and unknown to its owner)."""
    db = Database(make_settings(tmp_path).sqlalchemy_url)
    db.create_all()
    start = threading.Barrier(6)
    made: list[str | None] = []

    def worker() -> None:
        ring = KeyRing(db)  # a process's own key ring
        start.wait()
        made.append(ensure_admin_key(ring, tmp_path))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [k for k in made if k is not None]
    assert len(keys) == 1, f"{len(keys)} first admin keys made"
    assert (tmp_path / ADMIN_KEY_FILE).read_text().strip() == keys[0]
    admins = [k for k in KeyRing(db).list() if k.role is Role.admin]
    assert len(admins) == 1
    db.dispose()


def test_cli_creates_a_key(tmp_path: Path, capsys: object) -> None:
    assert main(["--data-dir", str(tmp_path), "create", "--role", "editor", "--name", "x"]) == 0
    out = capsys.readouterr().out.strip()  # type: ignore[attr-defined]
    assert out.startswith("pm_")
    assert main(["--data-dir", str(tmp_path), "list"]) == 0
    assert "editor" in capsys.readouterr().out  # type: ignore[attr-defined]
