"""The server-rendered page: form, results (coalition, sectors, gaps), escaping, profiles."""

from __future__ import annotations

import re

from api_support import hdr
from fastapi.testclient import TestClient

NEED_FORM = {
    "text": "Families skip meals at the end of the month; we need weekly fresh food "
    "distribution, volunteers and funding.",
    "city": "Portland",
    "lat": "45.52",
    "lon": "-122.6",
    "radius_km": "60",
    "sectors": ["business", "government", "nonprofit", "community"],
}


def test_form_is_accessible(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<meta name="viewport"' in html and 'lang="en"' in html
    for field in ("text", "city", "lat", "lon", "radius_km", "capabilities"):
        assert f'<label for="{field}"' in html and f'id="{field}"' in html
    assert "content-security-policy" in r.headers


def test_results_show_coalition_sectors_reasons_and_gaps(client: TestClient) -> None:
    r = client.post("/", data=NEED_FORM)
    assert r.status_code == 200, r.text
    html = r.text
    assert 'id="coalition"' in html and 'id="gaps"' in html and 'id="by-sector"' in html
    coalition = html.split('id="coalition"')[1].split('id="gaps"')[0]
    sectors = set(re.findall(r'data-sector="([a-z]+)"', coalition))
    assert len(sectors) >= 2
    assert '<ul class="reasons">' in coalition and 'class="seg seg-fit"' in coalition
    assert 'value="contacted"' in html and 'value="not_relevant"' in html


def test_form_errors_are_shown(client: TestClient) -> None:
    r = client.post("/", data={"text": "x", "radius_km": "5"})
    assert r.status_code == 422
    assert 'role="alert"' in r.text


def test_profile_text_is_escaped_and_contact_hidden(
    client: TestClient, keys: dict[str, str]
) -> None:
    evil = {
        "id": "xss-probe",
        "name": "<script>alert('x')</script> Fresh Food Drivers",
        "sector": "business",
        "description": "<img src=x onerror=alert(1)> weekly fresh food distribution vans",
        "offers": ["fresh food distribution"],
        "contact": "private@xss.example",
        "city": "Portland",
        "lat": 45.52,
        "lon": -122.6,
    }
    assert (
        client.post("/v1/organisations", json=evil, headers=hdr(keys["editor"])).status_code == 201
    )
    try:
        page = client.get("/organisations/xss-probe")
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;" in page.text
        assert "private@xss.example" not in page.text
        results = client.post("/", data={**NEED_FORM, "text": "fresh food distribution vans"})
        assert "<script>alert" not in results.text
        assert client.get("/organisations/nope").status_code == 404
    finally:
        client.delete("/v1/organisations/xss-probe", headers=hdr(keys["editor"]))
