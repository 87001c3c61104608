"""Where an organisation's aligned partners are looked for: around its home, or around a place
asked, within a distance or not. One reading for the aligned page and for GET
/v1/organisations/{id}/matches (which took no place: Intel's matches were measured from Santa
Clara, 909 km from the Portland nonprofits a CSR manager asked about, real data walk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher import places
from matcher.domain import Filters, Match, Need, Organisation, Sector, home_need
from matcher.places.resolve import Place
from matcher.score import focus_voice

if TYPE_CHECKING:
    from matcher.engine import Engine


@dataclass(frozen=True)
class AlignedArea:
    spot: Place | None  # the place asked, resolved; None: the organisation's home
    filters: Filters  # the distance, or the place's state when no distance is asked
    placed: bool  # there is a point to measure distances from
    home_region: str | None  # the state of the point (the place's, else the home's)
    where: str  # the place as reasons name it

    @property
    def near(self) -> bool:
        return self.filters.near is not None

    def placed_need(self, need: Need) -> Need:
        """A need at the organisation's home, moved to the place asked."""
        return need if self.spot is None else need.model_copy(update=self.spot.need_fields())


def aligned_area(org: Organisation, place: str, within: float | None) -> AlignedArea:
    """The area for a place as typed ("" for the organisation's home) and a distance in km
    (None: any). Raises matcher.errors.PlaceError for a place unknown or ambiguous."""
    spot = places.resolve(place.strip()[:200]) if place.strip() else None
    # a distance needs a point: the place's, else the organisation's own (a profile without
    # one: anywhere, said)
    if spot is not None:
        point = (spot.lat, spot.lon) if spot.lat is not None and spot.lon is not None else None
        home_region = spot.region
    else:
        point = (org.lat, org.lon) if org.lat is not None and org.lon is not None else None
        home_region = org.region
    near = point if point is not None and within else None
    area = Filters(near=near, radius_km=within, near_region=home_region) if near else Filters()
    if spot is not None and not near:  # a place without a distance: anywhere in its state
        area = Filters(region=spot.region, country=spot.country)
    where = spot.label if spot is not None else (org.city or org.region or "its home")
    return AlignedArea(spot, area, point is not None, home_region, where)


def aligned_matches(
    engine: Engine,
    org: Organisation,
    area: AlignedArea,
    *,
    focus: str,
    sectors: list[str] | None,
    limit: int,
) -> list[Match]:
    """The organisation's aligned partners in `area`: with a `focus` ("financial literacy for
    young people"), ranked as a need placed at its home (or the place asked), its reasons
    speaking of the focus; without one, fit judged both ways (`Engine.match`). Call off the
    event loop: it ranks."""
    if not focus:
        return engine.match(
            org.id, sectors=sectors, filters=area.filters, limit=limit, around=area.spot
        )
    need = area.placed_need(home_need(org, focus))
    filters = area.filters.model_copy(
        update={"sectors": [Sector(s) for s in sectors or ()], "exclude_ids": [org.id]}
    )
    # the answer is to a focus, not a need: "matches the need" and "(asked: 'food
    # insecurity')" read wrong (real data walk)
    voice = focus_voice(org.name, area.where)
    return engine.recommend(need, filters=filters, limit=limit, voice=voice).results
