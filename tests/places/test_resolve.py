"""Place names resolve offline; unknown or ambiguous ones are errors naming them (candidates)."""

from __future__ import annotations

import pytest

from matcher import places
from matcher.errors import AmbiguousPlaceError, UnknownPlaceError, ValidationError


@pytest.mark.parametrize(
    ("text", "kind", "city", "region"),
    [
        ("Providence, RI", "city", "Providence", "RI"),
        ("Providence, Rhode Island", "city", "Providence", "RI"),
        ("providence ri", "city", "Providence", "RI"),
        ("02903", "zip", "Providence", "RI"),
        ("Providence, RI 02903", "zip", "Providence", "RI"),
        ("Great Falls, MT", "city", "Great Falls", "MT"),
        ("St. Louis, Missouri", "city", "Saint Louis", "MO"),
        ("Dover, DE", "city", "Dover", "DE"),
        ("Providence, RI, USA", "city", "Providence", "RI"),
    ],
)
def test_cities_and_zips(text: str, kind: str, city: str, region: str) -> None:
    p = places.resolve(text)
    assert (p.kind, p.city, p.region, p.country) == (kind, city, region, "US")
    assert p.lat is not None and p.lon is not None


def test_points_are_where_the_place_is() -> None:
    p = places.resolve("Providence, RI")
    assert p.lat is not None and p.lon is not None
    assert abs(p.lat - 41.82) < 0.1 and abs(p.lon + 71.41) < 0.1


def test_county_state_and_country() -> None:
    county = places.resolve("Sussex County, Delaware")
    assert (county.kind, county.region, county.county, county.city) == (
        "county",
        "DE",
        "Sussex County",
        None,
    )
    assert county.lat is not None and 38 < county.lat < 39.5
    state = places.resolve("Rhode Island")
    assert (state.kind, state.region, state.country, state.lat) == ("state", "RI", "US", None)
    for text in ("USA", "United States", "us"):
        assert (places.resolve(text).kind, places.resolve(text).country) == ("country", "US")


def test_a_city_abroad() -> None:
    p = places.resolve("Zurich, Switzerland")
    assert (p.kind, p.country, p.city) == ("city", "CH", "Zürich")


def test_ambiguous_lists_candidates_likeliest_first() -> None:
    with pytest.raises(AmbiguousPlaceError) as err:
        places.resolve("Portland")
    assert err.value.candidates[:2] == ["Portland, OR", "Portland, ME"]
    assert err.value.place == "Portland"
    assert "Portland, OR" in str(err.value) and "Portland" in str(err.value)
    assert isinstance(err.value, ValidationError) and err.value.field == "place"


@pytest.mark.parametrize("text", ["Narnia", "Gotham, RI", "99999", "Springfield, Atlantis"])
def test_unknown_names_the_place(text: str) -> None:
    with pytest.raises(UnknownPlaceError) as err:
        places.resolve(text)
    assert text in str(err.value)


def test_unknown_city_in_a_state_offers_near_misses() -> None:
    with pytest.raises(UnknownPlaceError) as err:
        places.resolve("Providnce, RI")
    assert "Providence, RI" in err.value.candidates


def test_normalisers() -> None:
    assert places.normalise_region("Rhode Island") == "RI"
    assert places.normalise_region("ri") == "RI"
    assert places.normalise_region("Bavaria", "DE") == "Bavaria"
    assert places.normalise_region("  ") is None
    for text in ("USA", "United States", "united states of america", "us", "USA "):
        assert places.normalise_country(text) == "US"
    assert places.normalise_country("United Kingdom") == "GB"
    assert places.normalise_country("GBR") == "GB"
    with pytest.raises(ValueError, match="Narnia"):
        places.normalise_country("Narnia")
    assert places.region_key("Oregon") == places.region_key("OR") == places.region_key("oregon")
    assert places.region_key("Greater Manchester") == "greater manchester"


def test_suggest() -> None:
    labels = [s.label for s in places.suggest("Prov", 5)]
    assert labels[0] == "Providence, RI"
    rhode = places.suggest("rhode", 3)[0]
    assert (rhode.label, rhode.kind, rhode.region, rhode.country) == (
        "Rhode Island",
        "state",
        "RI",
        "US",
    )
    assert any(s.label == "Sussex County, DE" for s in places.suggest("Sussex County", 10))
    zips = places.suggest("0290", 3)
    assert zips and all(s.kind == "zip" and s.label.startswith("0290") for s in zips)
    assert len(places.suggest("p", 7)) == 7
    assert places.suggest("zzzzqx", 5) == []
    # the places of that name first, however large the ones whose name goes on
    newports = [s.label for s in places.suggest("Newport", 6)]
    assert newports[:2] == ["Newport, KY", "Newport, RI"] and all(
        n.startswith("Newport, ") or n == "Newport County, RI" for n in newports
    ), newports
    # every suggestion resolves to a place of its kind
    for s in places.suggest("Wilm", 5) + zips:
        assert places.resolve(s.label).kind == s.kind


@pytest.mark.parametrize("okina", ["ʻ", "‘", "ʼ", "`"])
def test_a_hawaiian_name_with_its_okina_is_the_same_place(okina: str) -> None:
    """ "Kapaʻa, HI" was refused ("did you mean Kapaa, HI?") though "Kapa'a" was read: the
    ʻokina (and the marks typed for it) is an apostrophe to the gazetteer (real data walk)."""
    got = places.resolve(f"Kapa{okina}a, HI")
    assert (got.city, got.region) == ("Kapaa", "HI")
    assert places.resolve(f"Kapa{okina}a, Hawaii").label == "Kapaa, HI"


def test_an_okina_in_a_need_is_part_of_its_place_name() -> None:
    from matcher.places.words import place_words

    spans = place_words("Kūpuna in Kapaʻa, HI need rides to the clinic")
    assert [s.text for s in spans] == ["Kapaʻa, HI"]


def test_a_misspelt_city_before_its_state_without_a_comma_gets_suggestions() -> None:
    """Real data walk (2026-12-04): "Providnce RI" said only "unknown place", where
    "Providnce, RI" suggested Providence."""
    for typed, meant in (
        ("Providnce RI", "Providence, RI"),
        ("Woonsoket Rhode Island", "Woonsocket, RI"),
    ):
        with pytest.raises(UnknownPlaceError) as caught:
            places.resolve(typed)
        assert meant in caught.value.candidates, typed
        assert f"did you mean {meant}" in str(caught.value)
    with pytest.raises(UnknownPlaceError) as nothing:
        places.resolve("Zzzq RI")
    assert not nothing.value.candidates


def test_a_place_abroad_is_named_with_its_country_and_the_suggestion_resolves() -> None:
    """Real data walk: "Toronto" listed "Toronto, CA" and advised "e.g. 'Toronto, CA'", which
    was then refused as "no city 'Toronto' in California". Abroad, a place's label names its
    country, and every candidate offered resolves as written."""
    with pytest.raises(AmbiguousPlaceError) as err:
        places.resolve("Toronto")
    assert err.value.candidates[0] == "Toronto, Canada"
    assert "e.g. 'Toronto, Canada'" in str(err.value)
    for candidate in err.value.candidates:
        assert places.resolve(candidate).label == candidate
    assert places.resolve("Toronto, Canada").country == "CA"
    assert places.resolve("Paris, France").label == "Paris, France"


@pytest.mark.parametrize(
    ("text", "region", "near"),
    [
        ("South Valley, NM", "NM", (35.01, -106.68)),
        ("South Valley", "NM", (35.01, -106.68)),
        ("Paradise, NV", "NV", (36.10, -115.15)),
        ("Harlem, New York", "NY", (40.81, -73.95)),
    ],
)
def test_a_large_place_no_zip_code_names_is_known(
    text: str, region: str, near: tuple[float, float]
) -> None:
    """Real data walk: an organiser in Albuquerque's South Valley (41,000 people, a
    census-designated place no post office names) was told "unknown place 'South Valley, NM'"
    with nothing to pick. A ZIP code's city of the same name still comes first."""
    p = places.resolve(text)
    assert (p.kind, p.region, p.city) == ("city", region, text.split(",")[0])
    assert p.lat is not None and p.lon is not None
    assert abs(p.lat - near[0]) < 0.1 and abs(p.lon - near[1]) < 0.1
    paradise = places.resolve("Paradise, CA")  # a ZIP code city: its ZIP codes' point, its county
    assert paradise.county is not None


def test_a_place_qualified_by_its_city_is_read_in_that_city_s_state() -> None:
    """ "South Valley, Albuquerque" was refused ("'Albuquerque' is neither a US state nor a
    country", real data walk): a US city as the qualifier places the name in its state, and a
    neighbourhood the gazetteer does not know is searched around its city."""
    valley = places.resolve("South Valley, Albuquerque")
    assert (valley.city, valley.region, valley.country) == ("South Valley", "NM", "US")
    hill = places.resolve("Capitol Hill, Seattle")
    assert (hill.kind, hill.city, hill.region) == ("city", "Seattle", "WA")
    assert places.resolve("Brooklyn, New York City").region == "NY"
    # a country as the qualifier, and a qualifier that is no one US city, as before
    assert places.resolve("Cambridge, England").country == "GB"
    for text in ("Foo, Bar", "Hollywood, Los Angeles"):
        with pytest.raises(UnknownPlaceError):
            places.resolve(text)


def test_a_province_or_state_abroad_names_its_country() -> None:
    """ "Vancouver, BC" was "'BC' is neither a US state nor a country" (the world gazetteer has
    no regions): a Canadian province or an Australian state, by code or name, is its country;
    a code that is also a US state's stays the state's."""
    for text, city, country in (
        ("Vancouver, BC", "Vancouver", "CA"),
        ("London, Ontario", "London", "CA"),
        ("Sydney, NSW", "Sydney", "AU"),
        ("Spokane, WA", "Spokane", "US"),
    ):
        p = places.resolve(text)
        assert (p.city, p.country) == (city, country), text
    with pytest.raises(UnknownPlaceError):
        places.resolve("Springfield, ON")  # no Springfield among Canada's cities held
