"""Evaluation reports over HTTP: `GET /v1/analyst/reports` lists what `matcher train evaluate`
wrote in DATA_DIR/reports (training.report.write_report) and `GET /v1/analyst/reports/{name}`
serves a page as written (analysts opened the files on the server by hand); analysts and admins
only; no name reaches a file outside the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient

from training.report import write_report

OLDER, NEWER = "v0901-20261201T080000", "v0902-20261203T093000"
SECRET = "TOP-SECRET-NOT-A-REPORT"


def _report(version: str, verdict: str) -> dict[str, object]:
    return {
        "version": version,
        "created_at": "2026-12-03T09:30:00Z",
        "verdict": verdict,
        "comparison": {
            "primary": "ndcg@10",
            "models": {version: {"ndcg@10": 0.41, "mrr": 0.5}, "default": {"ndcg@10": 0.4}},
        },
    }


@pytest.fixture(scope="module")
def folder(app: FastAPI) -> Path:
    data_dir: Path = app.state.api.settings.data_dir
    out = data_dir / "reports"
    write_report(_report("v0901", "v0901 is worse"), out, OLDER)
    write_report(_report("v0902", "v0902 is at least as good"), out, NEWER)
    (data_dir / "secret.html").write_text(SECRET, encoding="utf-8")
    (data_dir / "secret.json").write_text(f'{{"verdict": "{SECRET}"}}', encoding="utf-8")
    os.symlink(data_dir / "secret.html", out / "leak.html")  # a link out of the folder
    os.symlink(data_dir / "secret.json", out / "leak.json")
    return out


def test_the_reports_are_listed_newest_first_and_served_as_written(
    client: TestClient, keys: dict[str, str], folder: Path
) -> None:
    analyst = hdr(keys["analyst"])
    r = client.get("/v1/analyst/reports", headers=analyst)
    assert r.status_code == 200, r.text
    items = {i["name"]: i for i in r.json()["items"]}
    names = [i["name"] for i in r.json()["items"]]
    assert names.index(NEWER) < names.index(OLDER)
    assert items[NEWER] == {
        "name": NEWER,
        "version": "v0902",
        "created_at": "2026-12-03T09:30:00Z",
        "verdict": "v0902 is at least as good",
        "html_url": f"/v1/analyst/reports/{NEWER}",
        "json_url": f"/v1/analyst/reports/{NEWER}.json",
    }
    page = client.get(items[NEWER]["html_url"], headers=analyst)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.content == (folder / f"{NEWER}.html").read_bytes()
    assert "<svg" in page.text and "Ranking evaluation: v0902" in page.text
    figures = client.get(items[NEWER]["json_url"], headers=analyst)
    assert figures.status_code == 200 and figures.json()["verdict"] == "v0902 is at least as good"
    assert client.get(f"/v1/analyst/reports/{OLDER}", headers=hdr(keys["admin"])).status_code == 200
    missing = client.get("/v1/analyst/reports/v0999-20261203T093000", headers=analyst)
    assert missing.status_code == 404 and "/v1/analyst/reports" in missing.json()["detail"]


@pytest.mark.parametrize(("role", "expected"), [(None, 401), ("reader", 403), ("editor", 403)])
def test_only_analysts_read_the_reports(
    client: TestClient, keys: dict[str, str], folder: Path, role: str | None, expected: int
) -> None:
    headers = hdr(keys[role]) if role else {}
    for path in ("/v1/analyst/reports", f"/v1/analyst/reports/{NEWER}"):
        r = client.get(path, headers=headers)
        assert r.status_code == expected, (path, r.text)
        assert "Ranking evaluation" not in r.text


@pytest.mark.parametrize(
    "name",
    [
        "leak",  # a link in the folder to a file outside it
        "leak.json",
        "..%2Fsecret",
        "..%2fsecret.json",
        "%2e%2e%2Fsecret",
        "..%5Csecret",
        "..",
        "%2E%2E",
        ".%2E%2Fsecret",
        "%2Fetc%2Fpasswd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_no_name_reaches_a_file_outside_the_folder(
    client: TestClient, keys: dict[str, str], folder: Path, name: str
) -> None:
    r = client.get(f"/v1/analyst/reports/{name}", headers=hdr(keys["analyst"]))
    assert r.status_code in (404, 422), (name, r.status_code)
    assert SECRET not in r.text and "root:" not in r.text
    listed = client.get("/v1/analyst/reports", headers=hdr(keys["analyst"])).json()["items"]
    assert "leak" not in {i["name"] for i in listed}
