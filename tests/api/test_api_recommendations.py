"""POST /v1/recommendations, needs/{id}/recommendations, matches, opportunities."""

from __future__ import annotations

from api_support import hdr
from fastapi.testclient import TestClient

NEED = {
    "text": "Families on the east side skip meals at the end of the month; we need weekly "
    "fresh food distribution, volunteers and funding.",
    "city": "Portland",
    "country": "US",
    "lat": 45.52,
    "lon": -122.6,
    "radius_km": 50,
    "wanted_sectors": ["business", "government", "nonprofit", "community"],
    "limit": 5,
}


def test_recommendation_has_partners_coalition_gaps_and_provenance(
    client: TestClient, keys: dict[str, str]
) -> None:
    r = client.post("/v1/recommendations", json=NEED, headers=hdr(keys["reader"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["recommendation_id"].startswith("rec_")
    assert body["model_version"].startswith("hashing-v1")
    assert isinstance(body["index_generation"], int)
    assert 0 < len(body["results"]) <= 5
    first = body["results"][0]
    assert set(first["components"]) >= {"fit", "coverage", "proximity"}
    assert first["reasons"]
    assert "contact" not in first
    sectors = {m["sector"] for m in body["coalition"]["members"]}
    assert len(sectors) >= 2
    assert isinstance(body["gaps"], list)
    assert set(body["by_sector"]) <= {"business", "government", "nonprofit", "community"}


def test_recommendations_never_show_unpublished_or_contacts(
    client: TestClient, keys: dict[str, str]
) -> None:
    secret = {
        "id": "hidden-fresh-food",
        "name": "Hidden Fresh Food Collective",
        "sector": "nonprofit",
        "description": "Weekly fresh food distribution with volunteers for families who skip "
        "meals at the end of the month on the east side.",
        "offers": ["fresh food distribution", "volunteers"],
        "city": "Portland",
        "country": "US",
        "lat": 45.52,
        "lon": -122.6,
        "contact": "secret@hidden.example",
        "published": False,
    }
    r = client.post("/v1/organisations", json=secret, headers=hdr(keys["editor"]))
    assert r.status_code == 201, r.text
    try:
        rec = client.post(
            "/v1/recommendations", json={**NEED, "limit": 50}, headers=hdr(keys["admin"])
        )
        assert rec.status_code == 200
        assert "hidden-fresh-food" not in rec.text
        assert "secret@hidden.example" not in rec.text
    finally:
        client.delete("/v1/organisations/hidden-fresh-food", headers=hdr(keys["editor"]))


def test_recommendation_needs_a_key(client: TestClient) -> None:
    r = client.post("/v1/recommendations", json=NEED)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def test_limit_is_capped(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post("/v1/recommendations", json={**NEED, "limit": 101}, headers=hdr(keys["reader"]))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "limit"
    r = client.get("/v1/organisations/org-00001/matches?limit=1000", headers=hdr(keys["reader"]))
    assert r.status_code == 422


def test_unknown_requester_is_404_with_field(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post(
        "/v1/recommendations", json={**NEED, "requester_id": "nope"}, headers=hdr(keys["reader"])
    )
    assert r.status_code == 404
    assert r.json()["errors"][0]["field"] == "requester_id"


def test_recommendations_for_a_stored_need(client: TestClient, keys: dict[str, str]) -> None:
    needs = client.get("/v1/needs?page_size=1").json()["items"]
    need_id = needs[0]["id"]
    r = client.get(f"/v1/needs/{need_id}/recommendations?limit=3", headers=hdr(keys["reader"]))
    assert r.status_code == 200, r.text
    assert r.json()["need_id"] == need_id
    assert len(r.json()["results"]) <= 3


def test_matches_and_opportunities(client: TestClient, keys: dict[str, str]) -> None:
    r = client.get(
        "/v1/organisations/org-00001/matches?sector=nonprofit&sector=community&limit=5",
        headers=hdr(keys["reader"]),
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results and {m["sector"] for m in results} <= {"nonprofit", "community"}
    assert all(m["id"] != "org-00001" for m in results)
    r = client.get("/v1/organisations/org-00001/opportunities?limit=3", headers=hdr(keys["reader"]))
    assert r.status_code == 200, r.text
    assert len(r.json()["results"]) <= 3
    r = client.get("/v1/organisations/nope/matches", headers=hdr(keys["reader"]))
    assert r.status_code == 404


def test_unknown_query_parameters_are_422_naming_them(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Real data walk (2026-12-04, night): `?sectr=nonprofit` answered every sector and
    `/v1/organisations?nam=cvs` listed every organisation, as if the typo were understood."""
    h = hdr(keys["reader"])
    r = client.get("/v1/organisations/org-00001/matches?sectr=nonprofit", headers=h)
    assert r.status_code == 422 and "sectr" in r.json()["detail"]
    assert "sector" in r.json()["detail"]  # what it takes instead
    r = client.get("/v1/organisations", params={"nam": "cvs"})
    assert r.status_code == 422 and "nam" in r.json()["detail"]
    assert client.get("/v1/organisations", params={"name": "a", "min_seq": 0}).status_code == 200
    assert client.get("/?utm_source=mail").status_code == 200  # pages take what links carry


def test_matches_with_a_focus_rank_it_as_the_page_does(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The aligned page takes a focus; the API had no way to ask the same."""
    h = hdr(keys["reader"])
    plain = client.get("/v1/organisations/org-00001/matches?limit=5", headers=h).json()
    focus = "job training and apprenticeships for young adults"
    r = client.get(
        "/v1/organisations/org-00001/matches", params={"limit": 5, "focus": focus}, headers=h
    )
    assert r.status_code == 200, r.text
    focused = r.json()["results"]
    assert focused and [m["id"] for m in focused] != [m["id"] for m in plain["results"]]
    assert "org-00001" not in [m["id"] for m in focused]
    assert any("the focus" in reason for m in focused for reason in m["reasons"])
    r = client.get("/v1/organisations/org-00001/matches", params={"focus": "ab"}, headers=h)
    assert r.status_code == 422


def test_matches_take_a_place_and_a_distance_as_the_page_does(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Real data walk: the API's matches took no place, so a company's matches for Portland
    nonprofits were measured from its head office 909 km away (only the aligned page could
    ask); an unknown place is a 422 naming what it could be."""
    h = hdr(keys["reader"])
    url = "/v1/organisations/org-00001/matches"
    base = {"limit": 10, "sector": "nonprofit", "focus": "food for hungry families"}
    for place, region in (("Seattle, WA", "WA"), ("Portland, OR", "OR")):
        r = client.get(url, params={**base, "place": place, "radius_km": 40}, headers=h)
        assert r.status_code == 200, r.text
        found = r.json()["results"]
        assert found, place
        based = [m for m in found if m["distance_km"] is not None]
        assert based and all(m["distance_km"] <= 40 for m in based), place
        assert all(m["region"] == region for m in based), place
    # without a distance, anywhere in the place's state
    r = client.get(url, params={**base, "place": "Portland, OR"}, headers=h)
    assert r.status_code == 200 and r.json()["results"]
    assert {m["region"] for m in r.json()["results"]} <= {"OR", None}
    # without a focus too: the match is made around the place
    r = client.get(url, params={"place": "Seattle, WA", "radius_km": 40}, headers=h)
    assert r.status_code == 200, r.text
    near = [m for m in r.json()["results"] if m["distance_km"] is not None]
    assert near and all(m["distance_km"] <= 40 for m in near)
    bad = client.get(url, params={"place": "Springfield"}, headers=h)
    assert bad.status_code == 422 and bad.json()["candidates"], bad.text
    assert client.get(url, params={"radius_km": 0}, headers=h).status_code == 422


def test_opportunities_say_their_kind_and_filter_by_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Real data walk: a food bank's opportunities were all federal programmes (money the
    government offers), shown as needs to meet; the items carried no kind."""
    body = {
        "text": "Grants to school districts for fresh fruit and vegetables at lunch.",
        "kind": "programme",
    }
    r = client.post("/v1/needs", json=body, headers=hdr(keys["editor"]))
    assert r.status_code == 201, r.text
    programme = r.json()["id"]
    try:
        url = "/v1/organisations/org-00001/opportunities"
        h = hdr(keys["reader"])
        every = client.get(url, params={"limit": 100}, headers=h).json()["results"]
        kinds = {m["id"]: m["kind"] for m in every}
        assert kinds.get(programme) == "programme" and "need" in kinds.values()
        only = client.get(url, params={"limit": 100, "kind": "programme"}, headers=h).json()
        assert [m["id"] for m in only["results"]] == [programme]
        needs = client.get(url, params={"limit": 100, "kind": "need"}, headers=h).json()
        assert programme not in [m["id"] for m in needs["results"]]
        assert client.get(url, params={"kind": "grant"}, headers=h).status_code == 422
    finally:
        client.delete(f"/v1/needs/{programme}", headers=hdr(keys["editor"]))


def test_a_need_of_a_word_or_two_says_so_in_the_api(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The page said "this description is very short" for "help", but an API client got a
    full answer at 0.90 with nothing to tell it that it rests on one word (stop 50's review)."""
    short = {**NEED, "text": "help"}
    r = client.post("/v1/recommendations", json=short, headers=hdr(keys["reader"]))
    assert r.status_code == 200, r.text
    assert r.json()["few_words"] is True
    full = client.post("/v1/recommendations", json=NEED, headers=hdr(keys["reader"]))
    assert full.json()["few_words"] is False
