"""/v1/organisations: CRUD, owner isolation, contact hiding, ETag / If-Match, no mass assignment."""

from __future__ import annotations

import uuid
from typing import Any

from api_support import hdr
from fastapi.testclient import TestClient


def _org(**kw: Any) -> dict[str, Any]:
    base = {
        "id": f"t-{uuid.uuid4().hex[:10]}",
        "name": "Eastside Repair Café",
        "sector": "community",
        "description": "Volunteers fix bikes, toasters and clothes every Saturday.",
        "offers": ["volunteers", "repair workshops"],
        "city": "Portland",
        "country": "US",
        "contact": "fixit@eastside.example",
    }
    return {**base, **kw}


def _create(client: TestClient, key: str, **kw: Any) -> dict[str, Any]:
    r = client.post("/v1/organisations", json=_org(**kw), headers=hdr(key))
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"/v1/organisations/{r.json()['id']}"
    return r.json()  # type: ignore[no-any-return]


def test_create_read_with_contact_for_owner_only(client: TestClient, keys: dict[str, str]) -> None:
    org = _create(client, keys["editor"])
    assert org["contact"] == "fixit@eastside.example" and org["owner"]
    url = f"/v1/organisations/{org['id']}"
    anon = client.get(url)
    assert anon.status_code == 200
    assert "contact" not in anon.json() and "owner" not in anon.json()
    assert "fixit@eastside.example" not in anon.text
    assert anon.headers["etag"] == '"1"'
    other = client.get(url, headers=hdr(keys["editor2"]))
    assert "contact" not in other.json()
    for role in ("editor", "analyst", "admin"):
        assert client.get(url, headers=hdr(keys[role])).json()["contact"] == org["contact"]


def test_another_owners_organisation_is_404(client: TestClient, keys: dict[str, str]) -> None:
    org = _create(client, keys["editor"], published=False)
    url = f"/v1/organisations/{org['id']}"
    assert client.get(url, headers=hdr(keys["editor2"])).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get(url, headers=hdr(keys["reader"])).status_code == 404
    r = client.patch(url, json={"name": "Taken over"}, headers=hdr(keys["editor2"]))
    assert r.status_code == 404
    assert client.delete(url, headers=hdr(keys["editor2"])).status_code == 404
    assert client.get(url, headers=hdr(keys["analyst"])).status_code == 200
    # a published profile of another owner is readable but still not editable
    pub = _create(client, keys["editor"])
    purl = f"/v1/organisations/{pub['id']}"
    assert client.get(purl, headers=hdr(keys["editor2"])).status_code == 200
    r = client.patch(purl, json={"name": "Taken over"}, headers=hdr(keys["editor2"]))
    assert r.status_code == 404


def test_list_pagination_filters_and_mine(client: TestClient, keys: dict[str, str]) -> None:
    hidden = _create(client, keys["editor2"], published=False)
    r = client.get("/v1/organisations?page=1&page_size=200")
    assert r.status_code == 200
    body = r.json()
    assert body["page_size"] == 200 and body["total"] >= 200
    assert hidden["id"] not in {o["id"] for o in body["items"]}
    assert all("contact" not in o for o in body["items"])
    r = client.get("/v1/organisations?sector=government&page_size=5")
    assert r.status_code == 200
    assert {o["sector"] for o in r.json()["items"]} == {"government"}
    mine = client.get("/v1/organisations?mine=true", headers=hdr(keys["editor2"])).json()
    assert hidden["id"] in {o["id"] for o in mine["items"]}
    assert client.get("/v1/organisations?mine=true").status_code == 401
    assert client.get("/v1/organisations?page_size=201").status_code == 422
    assert client.get("/v1/organisations?page=0").status_code == 422


def test_if_match_guards_concurrent_edits(client: TestClient, keys: dict[str, str]) -> None:
    org = _create(client, keys["editor"])
    url = f"/v1/organisations/{org['id']}"
    editor = keys["editor"]
    first = client.patch(
        url, json={"offers": ["bike repair"]}, headers=hdr(editor, **{"If-Match": '"1"'})
    )
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"' and first.json()["version"] == 2
    stale = client.patch(url, json={"name": "Stale"}, headers=hdr(editor, **{"If-Match": '"1"'}))
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("/precondition-failed")
    weak = client.patch(url, json={"name": "Fresh"}, headers=hdr(editor, **{"If-Match": 'W/"2"'}))
    assert weak.status_code == 200 and weak.json()["name"] == "Fresh"
    no_guard = client.patch(url, json={"city": "Gresham"}, headers=hdr(editor))
    assert no_guard.status_code == 200 and no_guard.json()["version"] == 4
    assert client.delete(url, headers=hdr(editor, **{"If-Match": '"3"'})).status_code == 412
    assert client.delete(url, headers=hdr(editor, **{"If-Match": '"4"'})).status_code == 204
    assert client.get(url).status_code == 404


def test_no_mass_assignment(client: TestClient, keys: dict[str, str]) -> None:
    editor = keys["editor"]
    for field, value in [
        ("owner", "someone"),
        ("version", 9),
        ("updated_at", "2020-01-01T00:00:00Z"),
        ("is_admin", True),
    ]:
        r = client.post("/v1/organisations", json=_org(**{field: value}), headers=hdr(editor))
        assert r.status_code == 422, field
        assert r.json()["errors"][0]["field"] == field
    org = _create(client, editor)
    url = f"/v1/organisations/{org['id']}"
    for field, value in [("owner", "someone"), ("id", "other"), ("version", 5)]:
        assert client.patch(url, json={field: value}, headers=hdr(editor)).status_code == 422
    assert client.patch(url, json={"name": None}, headers=hdr(editor)).status_code == 422
    assert client.get(url, headers=hdr(editor)).json()["owner"] == org["owner"]


def test_service_regions_are_stored_shown_changed_and_checked(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A body limited to some states says which (the engine's region filters use them:
    tests/training/test_data_quality.py); PATCH changes them; too many or blank ones are a
    422 naming the field."""
    org = _create(
        client,
        keys["editor"],
        sector="government",
        service_level="national",
        service_regions=["Oregon", "wa"],
    )
    assert org["service_regions"] == ["Oregon", "WA"]
    url = f"/v1/organisations/{org['id']}"
    assert client.get(url).json()["service_regions"] == ["Oregon", "WA"]

    r = client.patch(url, json={"service_regions": []}, headers=hdr(keys["editor"]))
    assert r.status_code == 200 and r.json()["service_regions"] == []
    for bad in ([" "], [f"R{i}" for i in range(21)]):
        r = client.post(
            "/v1/organisations", json=_org(service_regions=bad), headers=hdr(keys["editor"])
        )
        assert r.status_code == 422 and "service_regions" in r.text, r.text


def test_roles_for_writes(client: TestClient, keys: dict[str, str]) -> None:
    assert client.post("/v1/organisations", json=_org()).status_code == 401
    r = client.post("/v1/organisations", json=_org(), headers=hdr(keys["reader"]))
    assert r.status_code == 403
    assert r.json()["type"].endswith("/forbidden")
    bad = client.post("/v1/organisations", json=_org(), headers=hdr("pm_00000000_nope"))
    assert bad.status_code == 401
    assert client.get("/v1/organisations/org-00001", headers=hdr("garbage")).status_code == 401
    # an admin may edit anyone's profile
    org = _create(client, keys["editor"])
    url = f"/v1/organisations/{org['id']}"
    assert client.patch(url, json={"city": "Salem"}, headers=hdr(keys["admin"])).status_code == 200


def test_duplicate_id_is_409(client: TestClient, keys: dict[str, str]) -> None:
    org = _create(client, keys["editor"])
    r = client.post("/v1/organisations", json=_org(id=org["id"]), headers=hdr(keys["editor"]))
    assert r.status_code == 409


def test_writes_are_visible_to_recommendations_at_once(
    client: TestClient, keys: dict[str, str]
) -> None:
    word = "zyxquorbical"
    need = {"text": f"We need {word} gardening expertise for the allotment", "limit": 100}
    org = _create(
        client,
        keys["editor"],
        name=f"The {word.title()} Allotment Society",
        description=f"Experts in {word} gardening on allotments; we teach {word} methods.",
    )
    found = client.post("/v1/recommendations", json=need, headers=hdr(keys["reader"])).json()
    assert org["id"] in {m["id"] for m in found["results"]}
    url = f"/v1/organisations/{org['id']}"
    assert (
        client.patch(url, json={"published": False}, headers=hdr(keys["editor"])).status_code == 200
    )
    found = client.post("/v1/recommendations", json=need, headers=hdr(keys["reader"])).json()
    assert org["id"] not in {m["id"] for m in found["results"]}
    assert client.delete(url, headers=hdr(keys["editor"])).status_code == 204


def test_if_none_match_gives_304(client: TestClient, keys: dict[str, str]) -> None:
    org = _create(client, keys["editor"])
    url = f"/v1/organisations/{org['id']}"
    r = client.get(url, headers={"If-None-Match": '"1"'})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["etag"] == '"1"' and "X-API-Key" in r.headers["vary"]
    assert client.get(url, headers={"If-None-Match": 'W/"1", "7"'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304
    r = client.patch(
        url, json={"name": "Renamed"}, headers=hdr(keys["editor"], **{"If-Match": '"1"'})
    )
    assert r.status_code == 200
    r = client.get(url, headers={"If-None-Match": '"1"'})
    assert r.status_code == 200 and r.headers["etag"] == '"2"' and r.json()["name"] == "Renamed"
    # no existence leak: an invisible profile is 404 whatever the validator
    hidden = _create(client, keys["editor"], published=False)
    r = client.get(f"/v1/organisations/{hidden['id']}", headers={"If-None-Match": "*"})
    assert r.status_code == 404


def test_patch_clears_the_location_with_both_null(client: TestClient, keys: dict[str, str]) -> None:
    org = _create(client, keys["editor"], lat=45.5, lon=-122.6)
    url = f"/v1/organisations/{org['id']}"
    auth = hdr(keys["editor"])
    for body in ({"lat": None}, {"lat": None, "lon": 3.0}, {"lat": 3.0, "lon": None}):
        r = client.patch(url, json=body, headers=auth)
        assert r.status_code == 422, (body, r.text)
    r = client.patch(url, json={"lat": None, "lon": None}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["lat"] is None and r.json()["lon"] is None
    r = client.post(
        "/v1/recommendations",
        json={"text": "repair workshops", "lat": 45.5, "lon": -122.6, "radius_km": 30},
        headers=auth,
    )
    assert r.status_code == 200 and org["id"] not in {m["id"] for m in r.json()["results"]}
    r = client.patch(url, json={"lat": 45.5, "lon": -122.6}, headers=auth)
    assert r.status_code == 200 and r.json()["lat"] == 45.5


def test_one_profile_read_says_what_matching_counts_as_its_offers(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A profile's stored offers are not what its cards cover: a bare label read from a mission
    counts only when the profile is about it, and its description adds offers (Missoula's food
    bank listed "volunteers", its card said "Does not cover: volunteers", real data). The page
    showed the counted ones since stop 30; an API client saw only the list as written."""
    from matcher import capabilities

    org = _create(
        client,
        keys["editor"],
        name="Northside Food Bank",
        sector="nonprofit",
        description="We run a food bank: fresh food parcels and hot meals for families.",
        offers=["fresh food parcels", "legal aid"],
    )
    url = f"/v1/organisations/{org['id']}"
    body = client.get(url).json()
    counted = body["offers_counted"]
    assert counted, body
    by_key = {o["capability"]: o for o in counted}
    engine = client.app.state.api.engine  # type: ignore[attr-defined]
    assert set(by_key) == set(engine.offers_counted(org["id"]))  # as the engine counts them
    food = by_key["food_supply"]
    assert food == {
        "capability": "food_supply",
        "label": capabilities.label("food_supply"),
        "phrase": "fresh food parcels",
        "source": "listed",
    }
    assert all(o["source"] in ("listed", "description", "field", "meaning", "") for o in counted)
    listed = client.get("/v1/organisations", params={"page_size": 100}).json()["items"]
    assert all(o.get("offers_counted") is None for o in listed)  # lists stay cheap
    assert client.get(url, headers={"If-None-Match": '"1"'}).status_code == 304
