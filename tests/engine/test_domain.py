"""Domain validation names the offending field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matcher.domain import Filters, Need, Organisation


def field_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {str(e["loc"][0]) if e["loc"] else "__root__" for e in exc.value.errors()}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sector": "charity"}, "sector"),
        ({"name": ""}, "name"),
        ({"description": "x\x00y"}, "description"),
        ({"size": "huge"}, "size"),
        ({"website": "\x00"}, "website"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_organisation_rejects_with_field_named(changes: dict[str, object], field: str) -> None:
    data: dict[str, object] = {"name": "n", "sector": "business", "description": "d"}
    data.update(changes)
    with pytest.raises(ValidationError) as exc:
        Organisation.model_validate(data)
    assert field in field_of(exc)


def test_bad_coordinates_are_named() -> None:
    with pytest.raises(ValidationError, match="latitude 91"):
        Organisation(name="n", sector="business", description="d", lat=91, lon=0)
    with pytest.raises(ValidationError, match="together"):
        Organisation(name="n", sector="business", description="d", lat=45)
    with pytest.raises(ValidationError, match="radius_km needs"):
        Need(text="food", radius_km=5)
    with pytest.raises(ValidationError, match="radius_km needs"):
        Filters(radius_km=5)


def test_need_text_must_not_be_blank() -> None:
    with pytest.raises(ValidationError) as exc:
        Need(text="   ")
    assert "text" in field_of(exc)


def test_what_people_write_keeps_its_case() -> None:
    """Offers were stored lower-cased ("in spanish") and a state named in a text of service
    regions too ("rhode island"); focus areas, codes of one table, stay lower-cased."""
    org = Organisation(
        name="n",
        sector="nonprofit",
        description="d",
        offers=["Legal advice In Spanish", "legal advice in spanish", "ESL classes"],
        needs="Volunteers who speak Portuguese",
        focus_areas="Housing, HOUSING",
        service_regions="Rhode Island; Massachusetts",
    )
    assert org.offers == ["Legal advice In Spanish", "ESL classes"]
    assert org.needs == ["Volunteers who speak Portuguese"]
    assert org.focus_areas == ["housing"]
    assert org.service_regions == ["Rhode Island", "Massachusetts"]
    assert "Offers: Legal advice In Spanish, ESL classes." in org.profile_text()


def test_lists_are_normalised_and_ids_generated() -> None:
    org = Organisation(
        name="n",
        sector="nonprofit",
        description="d",
        offers="Food Parcels | volunteers;food parcels",
        country=" us ",
    )
    # each once whatever its case, as first written: offers are read by people on the page
    assert org.offers == ["Food Parcels", "volunteers"]
    assert org.country == "US"
    assert (
        org.id.startswith("org_")
        and org.id != Organisation(name="n", sector="nonprofit", description="d").id
    )
