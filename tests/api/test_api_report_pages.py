"""The evaluation reports' page for analysts in a browser, /analyst/reports: the reports were
served only with an X-API-Key header (`GET /v1/analyst/reports`), which a browser does not send.
As on the analytics page, the key is typed into a form and POSTed (never in a URL, a cookie or
the page): the list, then one report's page through the same form; no name reaches a file
outside DATA_DIR/reports."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from accounts_support import browser, page_csrf
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient

from training.report import write_report

OLDER, NEWER = "v0911-20261202T080000", "v0912-20261204T101500"
SECRET = "PAGE-SECRET-NOT-A-REPORT"


def _report(version: str, verdict: str) -> dict[str, object]:
    return {
        "version": version,
        "created_at": "2026-12-04T10:15:00Z",
        "verdict": verdict,
        "comparison": {
            "primary": "ndcg@10",
            "models": {version: {"ndcg@10": 0.41, "mrr": 0.5}, "default": {"ndcg@10": 0.4}},
        },
    }


@pytest.fixture(scope="module")
def folder(app: FastAPI, client: TestClient) -> Path:
    data_dir: Path = app.state.api.settings.data_dir
    out = data_dir / "reports"
    write_report(_report("v0911", "v0911 is worse than the published model"), out, OLDER)
    write_report(_report("v0912", "v0912 is at least as good as the published model"), out, NEWER)
    (data_dir / "page-secret.html").write_text(SECRET, encoding="utf-8")
    os.symlink(data_dir / "page-secret.html", out / "page-leak.html")  # a link out of the folder
    return out


def _form(app: FastAPI) -> tuple[TestClient, str]:
    """A browser on the key form: the form's page and its CSRF token."""
    b = browser(app)
    page = b.get("/analyst/reports")
    assert page.status_code == 200, page.text
    return b, page_csrf(page.text)


def _post(app: FastAPI, key: str, name: str | None = None) -> tuple[int, str]:
    b, token = _form(app)
    data = {"api_key": key, "csrf_token": token}
    if name is not None:
        data["name"] = name
    r = b.post("/analyst/reports", data=data)
    return r.status_code, r.text


def test_without_a_key_the_page_asks_for_one(
    app: FastAPI, client: TestClient, folder: Path
) -> None:
    b = browser(app)
    page = b.get("/analyst/reports")
    assert page.status_code == 200
    assert re.search(r'<form method="post" action="/analyst/reports"', page.text)
    assert 'type="password" name="api_key"' in page.text and 'name="csrf_token"' in page.text
    assert NEWER not in page.text and "v0912" not in page.text  # nothing listed yet
    # where an analyst looks: the analytics page links here
    assert 'href="/analyst/reports"' in b.get("/analyst/analytics").text


def test_an_analyst_key_in_the_form_lists_the_reports(
    app: FastAPI, keys: dict[str, str], folder: Path
) -> None:
    status, text = _post(app, keys["analyst"])
    assert status == 200, text
    assert keys["analyst"] not in text  # the key is never echoed
    page = html.unescape(text)
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', page, re.S))
    assert list(rows).index(NEWER) < list(rows).index(OLDER)  # newest first
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[NEWER], re.S)
    assert cells[0] == "v0912"
    assert ">2026-12-04 10:15 UTC</time>" in cells[1]
    assert cells[2] == "v0912 is at least as good as the published model"
    assert f'name="name" value="{NEWER}"' in cells[3]
    assert "page-leak" not in rows  # a link out of the folder is not listed
    # one form: the Open buttons post the name beside a key field, never a link with the key
    assert 'type="password" name="api_key"' in page and "?api_key" not in page
    # a key in the X-API-Key header lists them too, without asking for the key again
    by_header = browser(app).get("/analyst/reports", headers=hdr(keys["admin"]))
    assert by_header.status_code == 200 and f'value="{NEWER}"' in by_header.text
    assert 'name="api_key"' not in by_header.text


@pytest.mark.parametrize(("role", "expected"), [("reader", 403), ("editor", 403), ("wrong", 401)])
def test_only_analysts_see_the_reports(
    app: FastAPI, keys: dict[str, str], folder: Path, role: str, expected: int
) -> None:
    key = keys.get(role, "pm_0123abcd_notakey")
    for name in (None, NEWER):
        status, text = _post(app, key, name)
        assert status == expected, (name, text)
        assert NEWER not in text and "Ranking evaluation" not in text
    if role != "wrong":
        r = browser(app).get("/analyst/reports", headers=hdr(key))
        assert r.status_code == expected and NEWER not in r.text


def test_the_form_needs_its_csrf_token(app: FastAPI, keys: dict[str, str], folder: Path) -> None:
    b = browser(app)  # no form read first: no session, no token
    r = b.post("/analyst/reports", data={"api_key": keys["analyst"], "name": NEWER})
    assert r.status_code == 403 and "Ranking evaluation" not in r.text


def test_a_report_opens_through_the_form(app: FastAPI, keys: dict[str, str], folder: Path) -> None:
    b, token = _form(app)
    listed = b.post("/analyst/reports", data={"api_key": keys["analyst"], "csrf_token": token})
    token = page_csrf(listed.text)  # the list's own form, as the Open button sends it
    r = b.post(
        "/analyst/reports", data={"api_key": keys["analyst"], "csrf_token": token, "name": NEWER}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "no-store" in r.headers["cache-control"]
    assert r.content == (folder / f"{NEWER}.html").read_bytes()  # as written
    assert "<svg" in r.text and "Ranking evaluation: v0912" in r.text
    status, text = _post(app, keys["admin"], OLDER)
    assert status == 200 and "Ranking evaluation: v0911" in text
    status, text = _post(app, keys["analyst"], "v0999-20261204T101500")
    assert status == 404 and "no evaluation report" in html.unescape(text)


@pytest.mark.parametrize(
    "name",
    [
        "page-leak",  # a link in the folder to a file outside it
        "../page-secret",
        "..%2Fpage-secret",
        "reports/../page-secret",
        "..",
        "/etc/passwd",
        "../../../../etc/passwd",
        "..\\page-secret",
        f"{NEWER}.html",
        f"{NEWER}/",
    ],
)
def test_no_name_in_the_form_reaches_a_file_outside_the_folder(
    app: FastAPI, keys: dict[str, str], folder: Path, name: str
) -> None:
    status, text = _post(app, keys["analyst"], name)
    assert status == 404, (name, status)
    assert SECRET not in text and "root:" not in text and "Ranking evaluation" not in text
