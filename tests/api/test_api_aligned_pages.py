"""The aligned-organisations page: a CSR manager opens the company's profile and finds the
nonprofits it is aligned with (the web page had no way to, only GET .../matches with a key)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "organisations.jsonl"


def _first(sector: str) -> str:
    for line in SAMPLE.read_text().splitlines():
        doc = json.loads(line)
        if doc.get("sector") == sector and doc.get("published", True):
            return str(doc["id"])
    raise AssertionError(f"no {sector} in the sample")


def _items(page: str) -> list[tuple[str, str]]:
    return re.findall(r'class="aligned-item" data-org-id="([^"]+)" data-sector="([^"]+)"', page)


def test_a_companys_profile_leads_to_the_nonprofits_it_is_aligned_with(
    client: TestClient,
) -> None:
    company = _first("business")
    profile = client.get(f"/organisations/{company}")
    assert profile.status_code == 200
    assert f'href="/organisations/{company}/aligned"' in profile.text
    page = client.get(f"/organisations/{company}/aligned")
    assert page.status_code == 200, page.text
    items = _items(page.text)
    assert items and {sector for _, sector in items} == {"nonprofit"}  # what a company seeks
    assert company not in {org_id for org_id, _ in items}
    for org_id, _ in items:  # each leads to its profile
        assert f'href="/organisations/{org_id}"' in page.text
    assert '<ul class="reasons"><li>' in page.text  # each says why


def test_the_sector_can_be_chosen_and_a_bad_one_is_named(client: TestClient) -> None:
    nonprofit = _first("nonprofit")
    default = _items(client.get(f"/organisations/{nonprofit}/aligned").text)
    assert {sector for _, sector in default} == {"business"}  # what a nonprofit seeks
    agencies = _items(client.get(f"/organisations/{nonprofit}/aligned?sector=government").text)
    assert agencies and {sector for _, sector in agencies} == {"government"}
    every = _items(client.get(f"/organisations/{nonprofit}/aligned?sector=all").text)
    assert len({sector for _, sector in every}) >= 2
    bad = client.get(f"/organisations/{nonprofit}/aligned?sector=charity")
    assert bad.status_code == 422 and "&#39;charity&#39; is not one of" in bad.text


def test_an_unknown_organisation_is_a_readable_404(client: TestClient) -> None:
    page = client.get("/organisations/no-such-org/aligned")
    assert page.status_code == 404 and "No organisation" in page.text


def test_a_focus_finds_organisations_working_on_it_near_the_company(client: TestClient) -> None:
    """Without a focus a company finds organisations like itself; with one, the ones working on
    what it wants to support, in the chosen sector, the company itself never among them."""
    company = _first("business")
    page = client.get(
        f"/organisations/{company}/aligned", params={"focus": "food for hungry families"}
    )
    assert page.status_code == 200, page.text
    items = _items(page.text)
    assert items and {sector for _, sector in items} == {"nonprofit"}
    assert company not in {org_id for org_id, _ in items}
    assert 'value="food for hungry families"' in page.text  # the form keeps it
    assert "focus=food%20for%20hungry%20families" in page.text  # kept across sector links
    plain = _items(client.get(f"/organisations/{company}/aligned").text)
    assert [i for i, _ in items] != [i for i, _ in plain]  # the focus changed the answer
    short = client.get(f"/organisations/{company}/aligned", params={"focus": "ab"})
    assert short.status_code == 422 and "Focus:" in short.text


def test_a_distance_keeps_only_organisations_within_it(client: TestClient) -> None:
    company = _first("business")
    far = client.get(f"/organisations/{company}/aligned", params={"focus": "food banks"})
    near = client.get(
        f"/organisations/{company}/aligned", params={"focus": "food banks", "within": 50}
    )
    assert near.status_code == 200, near.text
    km = [float(x) for x in re.findall(r"· (\d+) km away ·", near.text)]
    assert km and max(km) <= 50
    assert len(_items(near.text)) == len(km)  # every one has a distance, within 50 km
    # none is listed apart, so the page does not say some are
    assert 'id="wide-title"' not in near.text and "listed apart" not in near.text
    assert "Organisations based within 50 km." in near.text
    assert max(float(x) for x in re.findall(r"· (\d+) km away ·", far.text)) > 50
    assert '<option value="50" selected>' in near.text
    assert "within=50" in near.text  # kept across the sector links


def _national_food_banks(org_id: str, name: str, description: str, offers: list[str]) -> Any:
    """A national food bank network with its head office in Miami, 4,000 km from the sample's
    company: national, so it passes every distance."""
    from matcher.domain import Organisation

    return Organisation(
        id=org_id,
        name=name,
        sector="nonprofit",
        description=description,
        offers=offers,
        city="Miami",
        region="Florida",
        country="US",
        lat=25.76,
        lon=-80.19,
        service_level="national",
    )


def test_national_bodies_are_listed_apart_from_the_distance(tmp_path: Path) -> None:
    """A national body passes every distance filter (its work covers the place), so within
    50 km it was listed among the near ones with its head office 4,000 km away; it now has its
    own list, and its card says it works nationwide."""
    from api.main import create_app
    from matcher.domain import Organisation
    from tests.api.api_support import quiet_api_settings, seed

    engine = seed(tmp_path)
    company = _first("business")
    home = engine.store.get_organisation(company).record
    engine.create_organisation(
        _national_food_banks(
            "national-food",
            "National Food Bank Network",
            "National network of food banks: food banks, pantries, food donations.",
            ["food donations", "food bank volunteers"],
        )
    )
    assert home.lat is not None and home.lon is not None
    engine.create_organisation(  # its state's association, 170 km away: it serves the state
        Organisation(
            id="state-food",
            name="Statewide Food Bank Association",
            sector="nonprofit",
            description="Statewide association of food banks: food banks, pantries, donations.",
            offers=["food donations"],
            region=home.region,
            country="US",
            lat=home.lat + 1.5,
            lon=home.lon,
            service_level="state",
        )
    )
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    with TestClient(app) as client:
        page = client.get(
            f"/organisations/{company}/aligned", params={"focus": "food banks", "within": 50}
        ).text
        results = client.post("/", data={"text": "food donations for our food bank"}).text
    card = results[results.index('data-org-id="national-food"') :]
    assert '<span class="reach">works nationwide</span>' in card[: card.index("</p>")]
    near, _, wide = page.partition('id="wide-title"')
    assert {("national-food", "nonprofit"), ("state-food", "nonprofit")} <= set(_items(wide))
    assert "national-food" not in {org for org, _ in _items(near)}
    km = [float(x) for x in re.findall(r"· (\d+) km away ·", near)]
    assert km and max(km) <= 50
    assert f"Their work covers {home.city}" in wide
    assert "bodies, whose work covers it, are listed apart." in near
    engine.close()


def test_wide_bodies_do_not_crowd_out_the_near_ones(tmp_path: Path) -> None:
    """Within a distance, the page asked for its 15 results before splitting off the bodies
    that work nationwide: where 15 of those score higher (Eversource, 'All', within 50 km on
    real data: federal agencies and S&P 500 companies), it said 'No organisation based within
    50 km is a close enough match' while the Nonprofit tab listed 15 of them."""
    from api.main import create_app
    from api.routes.aligned_pages import ALIGNED_LIMIT
    from tests.api.api_support import quiet_api_settings, seed

    engine = seed(tmp_path)
    company = _first("business")
    for i in range(ALIGNED_LIMIT + 2):
        engine.create_organisation(
            _national_food_banks(
                f"national-food-{i}",
                f"National Food Bank Network {i}",
                "National network of food banks: food banks, food bank pantries.",
                ["food banks", "food bank volunteers", "food donations"],
            )
        )
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    with TestClient(app) as client:
        page = client.get(
            f"/organisations/{company}/aligned", params={"focus": "food banks", "within": 50}
        ).text
    engine.close()
    near, _, wide = page.partition('id="wide-title"')
    assert "is a close enough match" not in near
    km = [float(x) for x in re.findall(r"· (\d+) km away ·", near)]
    assert km and max(km) <= 50
    national = [org for org, _ in _items(wide) if org.startswith("national-food-")]
    assert len(national) == len(_items(wide)) == ALIGNED_LIMIT  # each list shows 15 at most


def test_the_forms_any_distance_is_anywhere_and_a_bad_distance_is_named(
    client: TestClient,
) -> None:
    """The form's "any distance" sends `within=` (empty): the page answered 422 'within: Input
    should be a valid integer' to every search a user made with the default (found walking the
    page on real data)."""
    company = _first("business")
    anywhere = client.get(
        f"/organisations/{company}/aligned", params={"focus": "food banks", "within": ""}
    )
    assert anywhere.status_code == 200, anywhere.text
    plain = client.get(f"/organisations/{company}/aligned", params={"focus": "food banks"})
    assert _items(anywhere.text) == _items(plain.text) and _items(plain.text)
    for bad in ("abc", "0", "-5", "99999"):
        page = client.get(
            f"/organisations/{company}/aligned", params={"focus": "food banks", "within": bad}
        )
        assert page.status_code == 422, bad
        assert "Distance: choose any distance or within 25 km" in page.text


def _regions(page: str) -> list[str]:
    """The region of each listed organisation (not the wide bodies' list)."""
    listed = page.split('class="aligned-wide"')[0]
    return re.findall(r'<p class="meta">[A-Za-z]+ · [^,<]+, ([^ ·<]+(?: [^ ·<]+)?) ·', listed)


def test_a_place_points_the_search_away_from_the_companys_home(client: TestClient) -> None:
    """A CSR manager looking for nonprofits in another state than the company's home had no way
    to say so: "financial literacy in New Mexico" as the focus ranked Montana first (real data
    walk). The page takes a place; the organisations listed are in its state."""
    company = _first("business")
    for place, region in (("Seattle, WA", "WA"), ("Portland, OR", "OR")):
        page = client.get(
            f"/organisations/{company}/aligned",
            params={"focus": "food for hungry families", "place": place},
        )
        assert page.status_code == 200, page.text
        regions = _regions(page.text)
        assert regions and set(regions) <= {region, {"WA": "Washington", "OR": "Oregon"}[region]}
        assert f'value="{place}"' in page.text  # the form keeps it
        assert f"place={place.replace(', ', '%2C%20')}" in page.text  # and the sector links
        # the hint names the place the list is ordered around (it said the company's home:
        # "nearer Chicago first among equals" for Billings, real data walk)
        assert re.search(rf"nearer {re.escape(place.split(',')[0])}[^<]* first among", page.text)
    bad = client.get(
        f"/organisations/{company}/aligned", params={"focus": "food banks", "place": "Nowhere, ZZ"}
    )
    assert bad.status_code == 422 and "Place: unknown place" in bad.text


def test_a_bad_place_is_said_on_the_page_with_the_form_as_typed(client: TestClient) -> None:
    """A place the page could not read was a bare error page whose only link went to the home
    page: the CSR manager lost the company, the focus and the sector (real data walk). The
    page comes back with the form as typed, what to change, and the places it could mean."""
    company = _first("business")
    params = {"focus": "food banks", "place": "Springfield", "sector": "nonprofit"}
    page = client.get(f"/organisations/{company}/aligned", params=params)
    assert page.status_code == 422
    assert 'id="aligned-title"' in page.text and f'href="/organisations/{company}"' in page.text
    assert 'value="food banks"' in page.text and 'value="Springfield"' in page.text
    assert "Place: " in page.text
    picks = re.findall(
        r'<li><a href="\?sector=nonprofit&amp;focus=food%20banks&amp;place=([^"]+)"', page.text
    )
    assert len(picks) >= 2 and all(p.startswith("Springfield") for p in picks), picks
    # a picked place is read (the sample may hold no nonprofit there)
    from urllib.parse import unquote

    chosen = client.get(
        f"/organisations/{company}/aligned", params={**params, "place": unquote(picks[0])}
    )
    assert chosen.status_code == 200 and 'class="errors"' not in chosen.text
    # every error at once, the distance kept in the form and the places' links
    both = client.get(
        f"/organisations/{company}/aligned",
        params={"focus": "ab", "place": "Springfield", "within": "50", "sector": "bogus"},
    )
    assert both.status_code == 422
    for said in ("Focus: say in a few words", "Place: ", "Sector: &#39;bogus&#39; is not one"):
        assert said in both.text, said
    assert re.search(r'<option value="50" selected>', both.text)
    assert "&amp;within=50&amp;place=Springfield" in both.text
    # a focus that cannot be read is not carried into the places' links (each led to the
    # same error again)
    assert "focus=ab" not in both.text
    assert "?sector=" in both.text and "&amp;place=Springfield" in both.text
    short = client.get(f"/organisations/{company}/aligned", params={"focus": "ab"})
    assert short.status_code == 422 and 'id="aligned-title"' in short.text
    assert "Focus: say in a few words" in short.text


def test_the_reasons_speak_of_the_focus_not_of_a_need(client: TestClient) -> None:
    """ "matches the need", "(asked: 'food insecurity')", "1 km from the need's location": the
    aligned page shows no need (real data walk)."""
    company = _first("business")
    page = client.get(
        f"/organisations/{company}/aligned",
        params={"focus": "food for hungry families", "place": "Portland, OR"},
    )
    assert page.status_code == 200, page.text
    reasons = " ".join(re.findall(r'<ul class="reasons">(.*?)</ul>', page.text, re.S))
    assert reasons and "the need" not in reasons and "asked:" not in reasons
    assert "matches the focus" in reasons
    # placed at the place asked for, as `Voice` words it (tests/engine/test_reasons_voice.py)
    assert "from the need's location" not in page.text


def test_without_a_focus_the_reasons_speak_of_the_organisation(client: TestClient) -> None:
    company = _first("business")
    page = client.get(f"/organisations/{company}/aligned")
    assert page.status_code == 200, page.text
    reasons = " ".join(re.findall(r'<ul class="reasons">(.*?)</ul>', page.text, re.S))
    assert reasons and "the need" not in reasons and "asked:" not in reasons


def test_without_a_focus_a_place_is_where_distances_are_measured_from(
    client: TestClient,
) -> None:
    """A company's page asked around Hilo without a focus listed Hawaii's nonprofits, but its
    cards said "Based in Honolulu, 7227 km from Atlanta" and its hint "nearer Atlanta" (real
    data walk: the place was a filter only). The match is now made around the place."""
    company = _first("business")  # based in Portland, OR
    page = client.get(f"/organisations/{company}/aligned", params={"place": "Seattle, WA"})
    assert page.status_code == 200, page.text
    assert re.search(r"nearer Seattle[^<]* first among", page.text)
    listed = page.text.split('class="aligned-wide"')[0]
    cards = re.findall(r'<p class="meta">[A-Za-z]+ · ([^,<]+), [^·<]+ · (\d+) km away', listed)
    seattle = [int(km) for city, km in cards if city == "Seattle"]
    assert seattle and max(seattle) <= 25, cards  # measured from Seattle, not from Portland
    reasons = " ".join(re.findall(r'<ul class="reasons">(.*?)</ul>', page.text, re.S))
    assert "from Portland" not in reasons and "Portland&#39;s home" not in reasons
    # a partner in the place's own city: "Based in Seattle, 3 km away." (not "... from Seattle")
    assert re.search(r"Based in Seattle, \d+ km away\.", reasons), reasons[:2000]


def test_the_page_says_when_no_partner_seeks_what_the_company_offers(tmp_path: Path) -> None:
    """Real data walk (2026-12-04): a bank's page promised "what M&T offers that they need"
    over nonprofits whose IRS missions name no need, and no card said any. A company offering
    money sees which nonprofits seek it; one offering nothing they seek is told so."""
    from api.main import create_app
    from matcher.domain import Organisation
    from tests.api.api_support import quiet_api_settings, seed

    engine = seed(tmp_path)
    for org_id, offers in (("giver", ["grant funding", "volunteers"]), ("plain", [])):
        engine.create_organisation(
            Organisation(
                id=org_id,
                name=f"{org_id.title()} Company",
                sector="business",
                description="A regional company in Portland.",
                offers=offers,
                city="Portland",
                region="Oregon",
                country="US",
                lat=45.52,
                lon=-122.68,
            )
        )
    engine.build()
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    note = "No profile listed names a need that"
    with TestClient(app) as client:
        pages = {
            org_id: client.get(
                f"/organisations/{org_id}/aligned", params={"focus": "affordable housing"}
            ).text
            for org_id in ("giver", "plain")
        }
    assert _items(pages["giver"]) and _items(pages["plain"])
    assert "Would gain funding" in pages["giver"] and note not in pages["giver"]
    assert "Would gain" not in pages["plain"]
    assert f"{note} Plain Company offers to meet, so that part counts" in pages["plain"]
    engine.close()


def _with_a_national_agency(tmp_path: Path) -> Any:
    """The sample and a national agency with no place, funding food banks, built."""
    from matcher.domain import Organisation
    from tests.api.api_support import seed

    engine = seed(tmp_path)
    engine.create_organisation(
        Organisation(
            id="national-agency",
            name="National Food Programmes Agency",
            sector="government",
            description="Federal grants for food banks and pantries.",
            country="US",
            service_level="national",
        )
    )
    engine.build()
    return engine


def test_an_organisation_with_no_place_is_not_said_to_rank_the_nearer_first(
    tmp_path: Path,
) -> None:
    """Real data walk (2026-12-04): a national agency's page (no city, no state) said "without
    it, around its home" and "nearer its home first among equals", with no distance shown."""
    from api.main import create_app
    from tests.api.api_support import quiet_api_settings

    engine = _with_a_national_agency(tmp_path)
    company = _first("business")
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    with TestClient(app) as client:
        agency = client.get("/organisations/national-agency/aligned").text
        focused = client.get(
            "/organisations/national-agency/aligned", params={"focus": "food banks"}
        ).text
        placed = client.get(f"/organisations/{company}/aligned").text
    for page in (agency, focused):
        assert _items(page) and "first among equals" not in page and "its home" not in page
        assert "without it, anywhere)" in page
    assert "first among equals" in placed  # a company with a home still says it
    engine.close()


def test_a_state_the_data_holds_none_of_is_said(client: TestClient) -> None:
    """ "Springfield, IL" on data of New Mexico and Oregon said only "No nonprofit organisation
    is a close enough match yet" (real data walk): the page says the data holds none there."""
    company = _first("business")
    params = {"focus": "food banks", "sector": "nonprofit"}
    none = client.get(
        f"/organisations/{company}/aligned", params={**params, "place": "Springfield, IL"}
    )
    assert none.status_code == 200
    assert not _items(none.text)
    assert "holds no nonprofit organisation based in Illinois" in none.text
    held = client.get(
        f"/organisations/{company}/aligned", params={**params, "place": "Portland, OR"}
    )
    assert 'id="unheld"' not in held.text and _items(held.text)
    everything = client.get(
        f"/organisations/{company}/aligned",
        params={**params, "sector": "all", "place": "Springfield, IL"},
    )
    assert "holds no organisation based in Illinois" in everything.text  # one space


def test_only_bodies_working_there_from_elsewhere_are_said_as_such(tmp_path: Path) -> None:
    """Real data walk (All, "Springfield, IL", 25 km): "No organisation based within 25 km is
    a close enough match", above national bodies working there, read as if some were too
    far; the data holds none based in Illinois, which the page now says."""
    from api.main import create_app
    from tests.api.api_support import quiet_api_settings

    engine = _with_a_national_agency(tmp_path)
    company = _first("business")
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    params = {"focus": "food banks", "sector": "all", "place": "Springfield, IL", "within": 25}
    with TestClient(app) as client:
        page = client.get(f"/organisations/{company}/aligned", params=params).text
    engine.close()
    assert 'class="aligned-wide"' in page and "national-agency" in page
    assert (
        "This service's data holds no organisation based in Illinois; these work there "
        "from elsewhere." in page
    )
    assert "is a close enough match" not in page


def test_a_sector_the_data_holds_none_of_anywhere_is_said(tmp_path: Path) -> None:
    """Real data walk: the aligned page's Academic tab, on data holding no academic
    organisation at all, said "holds no academic organisation based in New Mexico ... try a
    place in another state", which no state could help. It now says the data holds none at
    all and to choose another sector."""
    from api.main import create_app
    from matcher.engine import Engine
    from tests.api.api_support import make_settings, quiet_api_settings, sample_orgs

    engine = Engine.open(make_settings(tmp_path), load=False)
    engine.store.upsert_organisations([o for o in sample_orgs() if o.sector.value != "academic"])
    engine.build()
    company = next(o.id for o in sample_orgs() if o.sector.value == "business" and o.region)
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    with TestClient(app) as client:
        academic = client.get(
            f"/organisations/{company}/aligned", params={"sector": "academic"}
        ).text
        nonprofit = client.get(
            f"/organisations/{company}/aligned",
            params={"sector": "nonprofit", "place": "Springfield, IL"},
        ).text
    assert not _items(academic)
    assert "holds no academic organisation at all, so none can be listed" in academic
    assert "another state" not in academic
    assert "holds no nonprofit organisation based in Illinois" in nonprofit  # as before
    engine.close()
