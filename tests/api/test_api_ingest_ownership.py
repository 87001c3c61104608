"""Ownership is not data: an analyst upload that overlaps an editor's organisation keeps its
owner and contact (and reports the row); an `owner` column moves nothing; only an admin who asks
for it (`ownership=true`) may set ownership from a file."""

from __future__ import annotations

import uuid
from typing import Any

from api_support import hdr
from fastapi.testclient import TestClient


def _editor_org(client: TestClient, key: str) -> str:
    org_id = f"own-{uuid.uuid4().hex[:8]}"
    body = {
        "id": org_id,
        "name": "Editor's org",
        "sector": "business",
        "description": "Owned by an editor.",
        "contact": "editor@own.example",
    }
    r = client.post("/v1/organisations", json=body, headers=hdr(key))
    assert r.status_code == 201, r.text
    return org_id


def _upload(client: TestClient, key: str, csv: str, **form: str) -> Any:
    return client.post(
        "/v1/analyst/ingest",
        files={"file": ("o.csv", csv.encode())},
        data=form,
        headers=hdr(key),
    )


def test_analyst_upload_keeps_owner_and_contact(client: TestClient, keys: dict[str, str]) -> None:
    org_id = _editor_org(client, keys["editor"])
    csv = (
        "id,name,sector,description,contact,owner\n"
        f"{org_id},Overwritten,business,Replaced.,thief@x.example,someone-else\n"
    )
    r = _upload(client, keys["analyst"], csv)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["stored"]["updated"] == 1, report
    assert report["stored"]["owned"] == [org_id], report
    got = client.get(f"/v1/organisations/{org_id}", headers=hdr(keys["editor"]))
    assert got.status_code == 200, "the editor still owns it"
    assert got.json()["name"] == "Overwritten"
    assert got.json()["contact"] == "editor@own.example"
    etag = got.headers["etag"]
    r = client.patch(
        f"/v1/organisations/{org_id}",
        json={"city": "Leeds"},
        headers=hdr(keys["editor"], **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text


def test_owner_column_of_a_new_row_is_ignored_for_analysts(
    client: TestClient, keys: dict[str, str]
) -> None:
    org_id = f"own-new-{uuid.uuid4().hex[:8]}"
    csv = f"id,name,sector,description,owner\n{org_id},New,business,New org.,some-key\n"
    r = _upload(client, keys["analyst"], csv)
    assert r.status_code == 200 and r.json()["stored"]["inserted"] == 1, r.text
    got = client.get(f"/v1/organisations/{org_id}", headers=hdr(keys["admin"]))
    assert got.status_code == 200, got.text
    assert got.json().get("owner") in (None, ""), got.json()


def test_only_admins_may_ask_to_set_ownership(client: TestClient, keys: dict[str, str]) -> None:
    org_id = _editor_org(client, keys["editor"])
    csv = (
        "id,name,sector,description,contact\n"
        f"{org_id},Editor's org,business,Owned by an editor.,new@own.example\n"
    )
    r = _upload(client, keys["analyst"], csv, ownership="true")
    assert r.status_code == 403, r.text
    r = _upload(client, keys["admin"], csv, ownership="true")
    assert r.status_code == 200, r.text
    got = client.get(f"/v1/organisations/{org_id}", headers=hdr(keys["admin"]))
    assert got.json()["contact"] == "new@own.example"
