"""Finding an organisation by name (`/organisations?q=`): a CSR manager looking for their
company's page had no way to but a typed address (real data walk, 2026-12-04)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from api_support import hdr
from fastapi.testclient import TestClient

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "organisations.jsonl"


def _sample() -> list[dict[str, object]]:
    return [json.loads(line) for line in SAMPLE.read_text().splitlines()]


def _found(page: str) -> list[str]:
    return re.findall(r'class="found-item" data-org-id="([^"]+)"', page)


def test_a_part_of_a_name_in_any_case_finds_the_organisation(client: TestClient) -> None:
    org = next(o for o in _sample() if o["sector"] == "business" and o.get("published", True))
    name = str(org["name"])
    part = " ".join(name.split()[:2]).upper()  # any case, words as typed
    page = client.get("/organisations", params={"q": f"  {part} "}).text
    assert org["id"] in _found(page)
    assert f'href="/organisations/{org["id"]}"' in page
    every = [str(o["name"]).lower() for o in _sample() if o.get("published", True)]
    hits = _found(page)
    assert all(
        part.lower() in n for n in [str(o["name"]).lower() for o in _sample() if o["id"] in hits]
    )
    assert len(hits) == min(25, sum(part.lower() in n for n in every))
    names = re.findall(r'class="found-item"[^>]*><a [^>]*>([^<]+)</a>', page)
    assert [len(n) for n in names] == sorted(len(n) for n in names)  # the closest first


def test_the_page_links_from_every_page_and_says_when_nothing_is_found(client: TestClient) -> None:
    home = client.get("/").text
    assert '<a href="/organisations">Find an organisation</a>' in home
    empty = client.get("/organisations")
    assert empty.status_code == 200 and 'id="find-q"' in empty.text and not _found(empty.text)
    none = client.get("/organisations", params={"q": "zzqx no such name"}).text
    assert 'id="found-none"' in none and "zzqx no such name" in none
    wild = client.get("/organisations", params={"q": "%"}).text  # a wildcard is a character
    assert not _found(wild)


def test_unpublished_organisations_are_not_found_by_anyone(
    client: TestClient, keys: dict[str, str]
) -> None:
    probe = {
        "id": "find-probe",
        "name": "Quokka Hidden Allotment Society",
        "sector": "community",
        "description": "Allotments for quokkas.",
        "published": False,
    }
    assert client.post("/v1/organisations", json=probe, headers=hdr(keys["editor"])).status_code
    try:
        assert not _found(client.get("/organisations", params={"q": "quokka hidden"}).text)
        api = client.get("/v1/organisations", params={"name": "Quokka Hidden"})
        assert api.status_code == 200 and api.json()["total"] == 0
    finally:
        client.delete("/v1/organisations/find-probe", headers=hdr(keys["editor"]))


def test_the_api_lists_organisations_by_name(client: TestClient) -> None:
    org = next(o for o in _sample() if o["sector"] == "nonprofit" and o.get("published", True))
    word = str(org["name"]).split()[-1].lower()
    body = client.get("/v1/organisations", params={"name": word, "page_size": 100}).json()
    assert org["id"] in [i["id"] for i in body["items"]]
    assert all(word in i["name"].lower() for i in body["items"])


def test_initials_find_the_organisation_when_no_name_holds_them(
    client: TestClient, keys: dict[str, str]
) -> None:
    """An organiser typed "FEMA" and "HUD": nothing, though the Federal Emergency Management
    Agency and the Housing and Urban Development Department were there (real data walk). What
    could be initials finds the names whose initials start with it, first; the page and the
    API alike."""
    probes = [
        {
            "id": "initials-fema",
            "name": "Federal Emergency Quokka Agency",
            "sector": "government",
            "description": "Disaster help for quokkas.",
        },
        {
            "id": "initials-hidden",
            "name": "Federal Emergency Quokka Annex",
            "sector": "government",
            "description": "A hidden annex.",
            "published": False,
        },
    ]
    for probe in probes:
        assert client.post("/v1/organisations", json=probe, headers=hdr(keys["editor"])).status_code
    try:
        page = client.get("/organisations", params={"q": "feqa"}).text
        assert _found(page) == ["initials-fema"]  # any case; not the unpublished one
        assert "No name holds “feqa”; this one starts with those initials." in page
        api = client.get("/v1/organisations", params={"name": "FEQA"}).json()
        assert [i["id"] for i in api["items"]] == ["initials-fema"] and api["total"] == 1
        # beside the names holding it, after the initials: "EPA" found "DEPAVE" first
        hold = {
            "id": "initials-holder",
            "name": "Deep Feqa Society",
            "sector": "nonprofit",
            "description": "A name holding the letters.",
        }
        assert client.post("/v1/organisations", json=hold, headers=hdr(keys["editor"])).status_code
        probes.append(hold)
        both = client.get("/v1/organisations", params={"name": "FEQA"}).json()
        assert [i["id"] for i in both["items"]] == ["initials-fema", "initials-holder"]
        # in lower case a word, as before: the names holding it alone
        lower = client.get("/v1/organisations", params={"name": "feqa"}).json()
        assert [i["id"] for i in lower["items"]] == ["initials-holder"]
        assert not _found(client.get("/organisations", params={"q": "FEQX"}).text)
    finally:
        for probe in probes:
            client.delete(f"/v1/organisations/{probe['id']}", headers=hdr(keys["editor"]))


def _add(
    client: TestClient,
    keys: dict[str, str],
    probes: list[dict[str, str]],
    org_id: str,
    name: str,
    description: str,
) -> None:
    """A nonprofit named `name`, added to `probes` (deleted at the test's end)."""
    probe = {"id": org_id, "name": name, "sector": "nonprofit", "description": description}
    r = client.post("/v1/organisations", json=probe, headers=hdr(keys["editor"]))
    assert r.status_code == 201, r.text
    probes.append(probe)


def test_a_short_name_and_an_agency_s_initials_come_first(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Real data walk: "USDA", "ACF", "DOT" found nothing (the registry names them
    "Agriculture Department", "Children and Families Administration"); "NOAA" found "NW
    Oregon Animal Alliance" first, "CDC" the Centers for Disease Control and Prevention
    twelfth; "CMS Energy Corporation" came after the Clan Maitland Society. A short name (the
    registry's `short_name`) finds its organisation first, in any case; then a government
    body whose initials are the letters typed, a name holding them as a word, other initials,
    initials that only start with them, and names holding them otherwise."""
    probes = [
        {
            "id": "short-usda",
            "name": "Quokkaculture Department",
            "short_name": "QCDX",
            "sector": "government",
            "description": "Farms for quokkas.",
        },
        {
            "id": "short-alliance",
            "name": "NW Quokka Animal Alliance",
            "sector": "nonprofit",
            "description": "Shorter name, same initials.",
        },
        {
            "id": "short-noaa",
            "name": "National Quokka and Atmospheric Administration",
            "sector": "government",
            "description": "Weather for quokkas.",
        },
        {
            "id": "short-prefix",
            "name": "Nq Quokka Arts Association Zone",  # initials NQAAZ: start with NQAA
            "sector": "government",
            "description": "Initials that only start with the letters.",
        },
    ]
    for probe in probes:
        r = client.post("/v1/organisations", json=probe, headers=hdr(keys["editor"]))
        assert r.status_code == 201, r.text
    try:
        for typed in ("QCDX", "qcdx"):
            api = client.get("/v1/organisations", params={"name": typed}).json()
            assert [i["id"] for i in api["items"]][:1] == ["short-usda"], typed
            assert api["items"][0]["short_name"] == "QCDX"
        page = client.get("/organisations", params={"q": "qcdx"}).text
        assert _found(page)[:1] == ["short-usda"]
        assert 'Quokkaculture Department</a> <span class="short-name">(QCDX)</span>' in page
        assert "1 found for “qcdx” by name, short name or initials." in page
        assert "No name holds" not in page  # it is called that
        profile = client.get("/organisations/short-usda").text
        assert '<h1>Quokkaculture Department <span class="short-name">(QCDX)</span></h1>' in profile
        only = client.get("/organisations", params={"q": "NQAA"}).text
        assert "No name holds “NQAA”; these start with those initials." in only
        # initials beside a name holding the letters: not "4 names hold 'NQAA'"
        _add(client, keys, probes, "short-holder", "Nqaa Friends Club", "Holds the letters.")
        mixed = client.get("/organisations", params={"q": "NQAA"}).text
        assert "4 found for “NQAA” by name, short name or initials." in mixed
        found = client.get("/v1/organisations", params={"name": "NQAA"}).json()
        assert [i["id"] for i in found["items"]] == [
            "short-noaa",  # a government body's initials
            "short-holder",  # a name holding the letters as a word ("CMS Energy")
            "short-alliance",  # other initials
            "short-prefix",  # initials starting with the letters
        ]
        # in capitals the letters start a word: "EPA" held "Department of Joy" (real data)
        _add(client, keys, probes, "short-inside", "Unqaaed Society", "Holds them in a word.")
        capitals = client.get("/v1/organisations", params={"name": "NQAA"}).json()
        assert "short-inside" not in [i["id"] for i in capitals["items"]]
        lower = client.get("/v1/organisations", params={"name": "nqaa"}).json()
        assert "short-inside" in [i["id"] for i in lower["items"]]  # a part of a name
    finally:
        for probe in probes:
            client.delete(f"/v1/organisations/{probe['id']}", headers=hdr(keys["editor"]))
