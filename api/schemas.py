"""Request and response bodies of the HTTP API.

Input models forbid unknown fields and never contain server-owned ones (owner, version,
updated_at, created_at): no mass assignment. Every model carries an OpenAPI example.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from api.recids import EXAMPLE_ID as EXAMPLE_REC_ID
from api.security import Role
from matcher.coalition_stage import PER_SECTOR
from matcher.domain import SERVED_REGIONS_MAX, SHORT_NAME_MAX, Sector, ServiceLevel, SizeBand

MAX_LIMIT = 100
MAX_PAGE_SIZE = 200
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
NO_NUL = r"^[^\x00]*$"
# Text is stripped before length checks; these patterns say the same in the schema. No pattern
# admits NUL (\x00): it is refused everywhere (InputModel), and the schema says so.
NON_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
THREE_CHARS = r"^[^\x00]*[^\s\x00][^\x00]+[^\s\x00][^\x00]*$"

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]


def _raw_length(limit: int) -> BeforeValidator:
    """The limit holds for the string as sent: whitespace is stripped only after it is measured
    (schemathesis: 201 characters with a leading space were accepted under maxLength 200)."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value

    return BeforeValidator(check)


Phrase = Annotated[str, Field(min_length=1, max_length=200, pattern=NON_BLANK), _raw_length(200)]
Phrases = Annotated[list[Phrase], Field(max_length=50)]
Place = Annotated[str, Field(min_length=1, max_length=200, pattern=NON_BLANK), _raw_length(200)]
Regions = Annotated[list[Place], Field(max_length=SERVED_REGIONS_MAX)]
Country = Annotated[
    str,
    Field(
        min_length=2,
        max_length=60,
        pattern=r"^[A-Za-z][A-Za-z .'()\-]*[A-Za-z.)]$",
        description="ISO 3166 code or country name ('US', 'USA', 'United States')",
    ),
    _raw_length(60),
]
PlaceName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=NON_BLANK,
        description="A place name, resolved offline: 'Providence, RI', '02903', "
        "'Sussex County, Delaware', 'Rhode Island'. Unknown or ambiguous: 422 naming it, "
        "with candidates",
    ),
    _raw_length(200),
]


def _number_only(value: Any) -> Any:
    """`lon: false` or `"lat": "1"` is a 422, never stored as 0.0 / 1.0 (1 and 1.0 pass)."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number")
    return value


Number = BeforeValidator(_number_only)


def _bool_only(value: Any) -> Any:
    """`published: 0` or `"resume": "no"` is a 422, never read as false."""
    if not isinstance(value, bool):
        raise ValueError("must be a JSON boolean (true or false)")
    return value


def _form_bool(value: Any) -> Any:
    """A form flag is `true` or `false` (any case); `0`, `yes` or `on` is a 422 naming it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("must be true or false")


Flag = Annotated[bool, BeforeValidator(_bool_only)]
FormFlag = Annotated[bool, BeforeValidator(_form_bool)]
Lat = Annotated[float, Field(ge=-90, le=90), Number]
Lon = Annotated[float, Field(ge=-180, le=180), Number]
Radius = Annotated[float, Field(gt=0, le=20_000), Number]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}"), Number]

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
# lat and lon go together (and a radius needs both): JSON Schema `dependentRequired`.
PAIR = {"lat": ["lon"], "lon": ["lat"]}
# a radius is measured around lat and lon, the point of `place`, or the point of `city` (with
# its region or country, resolved as a place is: matcher.domain.Need)
_GIVEN = {"not": {"type": "null"}}
RADIUS_NEEDS = {
    "radius_km": {
        "anyOf": [
            {"required": ["lat", "lon"], "properties": {"lat": _GIVEN, "lon": _GIVEN}},
            {"required": ["place"], "properties": {"place": _GIVEN}},
            {"required": ["city"], "properties": {"city": _GIVEN}},
        ]
    }
}
RADIUS_MESSAGE = (
    "radius_km needs a point to measure from: give lat and lon, or place ('Providence, RI'), "
    "or city with its region or country"
)


def check_radius(
    radius_km: float | None,
    lat: float | None,
    place: str | None,
    city: str | None = None,
    region: str | None = None,
    country: str | None = None,
) -> None:
    """A radius has a point to be measured from; a region or country alone is an area, no
    point (a client sent city/region and was told only 'lat and lon, or a place')."""
    if radius_km is None or lat is not None or place or city:
        return
    area = next(
        (f"{name} '{v}'" for name, v in (("region", region), ("country", country)) if v), ""
    )
    alone = f" ({area} alone is a whole area, no point: add city)" if area else ""
    raise ValueError(RADIUS_MESSAGE + alone)


def has_nul(value: Any) -> bool:
    """True if a string, or a string in a list, holds a NUL character (nested input models
    check their own fields, so the error names the innermost field)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class InputModel(BaseModel):
    """Base of request bodies: NUL characters are refused in every field (422 naming it).

    PostgreSQL cannot store them and they are never meaningful in this API's text; checking
    here gives the same answer on SQLite and PostgreSQL, whatever the domain does later.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        if has_nul(value):
            raise ValueError("must not contain NUL (\\x00) characters")
        limit = _max_length(cls.model_fields.get(info.field_name or ""))
        # the limit holds for the text as sent: whitespace is stripped only after it is measured
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value


def _max_length(field: FieldInfo | None) -> int | None:
    """The max_length of a text field (None for other fields: a list's max_length counts items)."""
    if field is None or field.annotation not in (str, str | None):
        return None
    limits = [m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen)]
    return min(limits) if limits else None


def _extra(example: dict[str, Any], dependent: dict[str, list[str]]) -> dict[str, Any]:
    return {"examples": [example], "dependentRequired": dependent}


def _need_extra(example: dict[str, Any]) -> dict[str, Any]:
    return {**_extra(example, PAIR), "dependentSchemas": RADIUS_NEEDS}


def _pair(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("lat and lon must be given together")


_ORG_EXAMPLE: dict[str, Any] = {
    "name": "Riverside Food Bank",
    "sector": "nonprofit",
    "description": "Collects surplus food and distributes weekly parcels to 400 families.",
    "focus_areas": ["food security"],
    "offers": ["volunteers", "community outreach"],
    "needs": ["cold storage", "delivery vans"],
    "city": "Leeds",
    "country": "GB",
    "lat": 53.8,
    "lon": -1.55,
    "service_radius_km": 25,
    "size": "small",
    "website": "https://riverside-food.example",
    "contact": "hello@riverside-food.example",
    "published": True,
}


def _NULL(field: str) -> dict[str, Any]:  # noqa: N802 - reads as a schema constant
    """JSON Schema: `field` is present and null."""
    return {"required": [field], "properties": {field: {"type": "null"}}}


def _unset() -> Any:
    """Default of a non-nullable optional field of a partial update (never dumped: unset)."""
    return None


# organisations ------------------------------------------------------------------------------
class ProfileFields(InputModel):
    """A new profile's public fields, as a key's program (`OrganisationCreate`) or a person
    adding their group (`GroupCreate`) sends them."""

    name: str = Field(min_length=1, max_length=300, pattern=NON_BLANK)
    short_name: str | None = Field(
        None,
        max_length=SHORT_NAME_MAX,
        pattern=NO_NUL,
        description='What it is also called, often its initials ("USDA"): name search '
        "finds it by this too",
    )
    sector: Sector
    description: str = Field(min_length=1, max_length=20_000, pattern=NON_BLANK)
    focus_areas: Phrases = Field(default_factory=list)
    offers: Phrases = Field(default_factory=list)
    needs: Phrases = Field(default_factory=list)
    city: Place | None = None
    region: Place | None = None
    country: Country | None = None
    postcode: str | None = Field(None, max_length=32, pattern=NO_NUL)
    service_radius_km: Radius | None = None
    size: SizeBand | None = None
    service_level: ServiceLevel | None = Field(
        None, description="Area served: local (default), state, national or international"
    )


class OrganisationCreate(ProfileFields):
    model_config = ConfigDict(**_IN, json_schema_extra=_extra(_ORG_EXAMPLE, PAIR))

    id: Id | None = Field(None, description="Optional client-chosen id; generated if absent")
    lat: Lat = Field(default_factory=_unset, description="With lon")
    lon: Lon = Field(default_factory=_unset, description="With lat")
    service_regions: Regions = Field(
        default_factory=list,
        description="The only regions (states) it serves, when it serves some but not all of "
        "its country; place filters then pass it for these regions only",
    )
    website: str | None = Field(None, max_length=500, pattern=NO_NUL)
    contact: str | None = Field(
        None, max_length=500, pattern=NO_NUL, description="Shown only to owner/analysts"
    )
    published: Flag = True

    @model_validator(mode="after")
    def _coords(self) -> OrganisationCreate:
        _pair(self.lat, self.lon)
        return self


class OrganisationUpdate(InputModel):
    """Partial update: only the fields sent change. Required fields cannot be set to null."""

    model_config = ConfigDict(
        **_IN,
        json_schema_extra={
            **_extra({"offers": ["volunteers", "cold storage"]}, PAIR),
            # null clears the location: both null or both numbers.
            "allOf": [
                {"if": _NULL("lat"), "then": _NULL("lon")},
                {"if": _NULL("lon"), "then": _NULL("lat")},
            ],
        },
    )

    name: str = Field(default_factory=_unset, min_length=1, max_length=300, pattern=NON_BLANK)
    short_name: str | None = Field(None, max_length=SHORT_NAME_MAX, pattern=NO_NUL)
    sector: Sector = Field(default_factory=_unset)
    description: str = Field(
        default_factory=_unset, min_length=1, max_length=20_000, pattern=NON_BLANK
    )
    focus_areas: Phrases = Field(default_factory=_unset)
    offers: Phrases = Field(default_factory=_unset)
    needs: Phrases = Field(default_factory=_unset)
    city: Place | None = None
    region: Place | None = None
    country: Country | None = None
    postcode: str | None = Field(None, max_length=32, pattern=NO_NUL)
    lat: Lat | None = Field(default_factory=_unset, description="With lon; null (both) clears")
    lon: Lon | None = Field(default_factory=_unset, description="With lat; null (both) clears")
    service_radius_km: Radius | None = None
    size: SizeBand | None = None
    service_level: ServiceLevel | None = None
    service_regions: Regions = Field(default_factory=_unset)
    website: str | None = Field(None, max_length=500, pattern=NO_NUL)
    contact: str | None = Field(None, max_length=500, pattern=NO_NUL)
    published: Flag = Field(default_factory=_unset)

    @model_validator(mode="after")
    def _coords(self) -> OrganisationUpdate:
        if ("lat" in self.model_fields_set) != ("lon" in self.model_fields_set):
            raise ValueError("lat and lon must be given together")
        _pair(self.lat, self.lon)
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, mode="python")


_ORG_PUBLIC_EXAMPLE: dict[str, Any] = {
    **{k: v for k, v in _ORG_EXAMPLE.items() if k not in ("contact", "published")},
    "id": "org_3f2a9c1b7d4e",
    "region": None,
    "postcode": None,
    "updated_at": "2026-11-27T10:00:00Z",
    "version": 1,
}


class OfferCounted(BaseModel):
    """One offer as matching counts it (what a result's card may say it covers)."""

    capability: str = Field(description="The capability's key, as in required_capabilities")
    label: str = Field(description="The capability as cards name it")
    phrase: str = Field(
        description="What it rests on: a listed offer, a quote of the description or one of "
        "its focus areas; empty when the profile is about it by meaning"
    )
    source: Literal["listed", "description", "field", "meaning", ""] = Field(
        description="Where the phrase comes from; empty: not known"
    )


class OrganisationPublic(BaseModel):
    """A published profile as anyone may see it: no contact details, no owner."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ORG_PUBLIC_EXAMPLE]})

    id: str
    name: str
    short_name: str | None = None
    sector: Sector
    description: str
    focus_areas: list[str]
    offers: list[str]
    needs: list[str]
    city: str | None
    region: str | None
    country: str | None
    postcode: str | None
    lat: float | None
    lon: float | None
    service_radius_km: float | None
    size: SizeBand | None
    service_level: ServiceLevel | None = None
    service_regions: list[str] = Field(default_factory=list)
    website: str | None
    updated_at: datetime
    version: int = Field(description="Also sent as the ETag header; send it back in If-Match")
    offers_counted: list[OfferCounted] | None = Field(
        None,
        description="What matching counts as its offers, which may differ from `offers` as "
        "written: a bare capability label read from a mission counts only when the profile is "
        "about it, and its focus areas and description add offers. Given when one profile is "
        "read (GET /v1/organisations/{id}); null in lists and while it is not indexed yet. It is "
        "read from the index, not from the stored profile, so a rebuild may change it without "
        "changing `version`",
    )


class OrganisationPrivate(OrganisationPublic):
    """The full profile, for its owner, analysts and admins."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_ORG_PUBLIC_EXAMPLE,
                    "contact": "hello@riverside-food.example",
                    "published": True,
                    "owner": "key_5b1e0c2d9a8f",
                }
            ]
        }
    )

    contact: str | None
    published: bool
    owner: str | None


OrganisationOut = OrganisationPrivate | OrganisationPublic


class Page(BaseModel):
    total: int
    page: int
    page_size: int


class OrganisationPage(Page):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_ORG_PUBLIC_EXAMPLE],
                    "total": 1,
                    "page": 1,
                    "page_size": 50,
                }
            ]
        }
    )

    items: list[OrganisationOut]


# needs --------------------------------------------------------------------------------------
_NEED_EXAMPLE: dict[str, Any] = {
    "text": "Older residents on our estate cannot get fresh food since the grocer closed.",
    "title": "Fresh food access on Hillside estate",
    "city": "Leeds",
    "country": "GB",
    "lat": 53.8,
    "lon": -1.55,
    "radius_km": 20,
    "wanted_sectors": ["business", "government", "nonprofit"],
    "required_capabilities": ["distribution", "funding"],
}


class NeedFields(InputModel):
    model_config = _IN

    text: str = Field(
        min_length=3, max_length=5_000, pattern=THREE_CHARS, description="The problem, in words"
    )
    title: str | None = Field(None, max_length=300, pattern=NO_NUL)
    place: PlaceName | None = Field(
        None,
        description="Where the need is, by name ('Providence, RI', '02903', 'Rhode Island'): "
        "fills city, region, country, lat and lon, and its state (or country) becomes a hard "
        "filter unless filters or radius_km say otherwise. Unknown or ambiguous: 422 with "
        "candidates",
    )
    city: Place | None = None
    region: Place | None = None
    country: Country | None = None
    lat: Lat = Field(default_factory=_unset, description="With lon")
    lon: Lon = Field(default_factory=_unset, description="With lat")
    radius_km: Radius = Field(
        default_factory=_unset,
        description="Around lat and lon, or around the place, or around the city (with its "
        "region or country, resolved as a place is; unknown or ambiguous: 422 naming `city`)",
    )
    wanted_sectors: list[Sector] = Field(default_factory=list, max_length=5)
    required_capabilities: Phrases = Field(default_factory=list)
    requester_id: Id | None = Field(None, description="The requesting organisation, if any")

    @model_validator(mode="after")
    def _coords(self) -> NeedFields:
        _pair(self.lat, self.lon)
        check_radius(self.radius_km, self.lat, self.place, self.city, self.region, self.country)
        if not self.text.strip():
            raise ValueError("text must not be blank")
        return self


class NeedCreate(NeedFields):
    model_config = ConfigDict(**_IN, json_schema_extra=_need_extra(_NEED_EXAMPLE))

    id: Id | None = Field(None, description="Optional client-chosen id; generated if absent")
    kind: Literal["need", "programme"] = Field(
        "need",
        description="need: help the requester seeks; programme: an opportunity the requester "
        "offers (e.g. an assistance programme), used as evidence of what it does",
    )


_NEED_PUBLIC_EXAMPLE: dict[str, Any] = {
    **_NEED_EXAMPLE,
    "id": "need_8c1d2e3f4a5b",
    "region": None,
    "requester_id": None,
    "status": "open",
    "created_at": "2026-11-27T10:00:00Z",
}


class NeedPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_NEED_PUBLIC_EXAMPLE]})

    id: str
    text: str
    title: str | None
    place: str | None = None
    city: str | None
    region: str | None
    country: str | None
    lat: float | None
    lon: float | None
    radius_km: float | None
    wanted_sectors: list[Sector]
    required_capabilities: list[str]
    requester_id: str | None
    status: str
    kind: str = "need"
    created_at: datetime


class NeedPage(Page):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_NEED_PUBLIC_EXAMPLE],
                    "total": 1,
                    "page": 1,
                    "page_size": 50,
                }
            ]
        }
    )

    items: list[NeedPublic]


# recommendations ----------------------------------------------------------------------------
class RecommendationFilters(InputModel):
    model_config = ConfigDict(**_IN, json_schema_extra={"examples": [{"sizes": ["small"]}]})

    country: Country | None = None
    region: Place | None = None
    sizes: list[SizeBand] = Field(default_factory=list, max_length=4)
    exclude_ids: list[Id] = Field(default_factory=list, max_length=100)


class RecommendationRequest(NeedFields):
    model_config = ConfigDict(**_IN, json_schema_extra=_need_extra({**_NEED_EXAMPLE, "limit": 5}))

    limit: Limit = Field(
        10,
        description=f"Partners in the overall ranked list (`results`), at most {MAX_LIMIT}; "
        f"each sector's list (`by_sector`) holds its best {PER_SECTOR} whatever the limit",
    )
    filters: RecommendationFilters | None = None


_MATCH_EXAMPLE: dict[str, Any] = {
    "id": "org_3f2a9c1b7d4e",
    "name": "Northern Grocers Ltd",
    "sector": "business",
    "score": 0.71,
    "components": {
        "fit": 0.82,
        "coverage": 0.5,
        "reciprocity": 0.3,
        "proximity": 0.9,
        "freshness": 1.0,
    },
    "reasons": ["Offers delivery vans (distribution)", "Based 4 km away"],
    "covers": ["distribution"],
    "distance_km": 4.2,
    "city": "Leeds",
    "region": None,
    "country": "GB",
    "service_level": "local",
}


class PlaceSuggestion(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"label": "Providence, RI", "kind": "city", "region": "RI", "country": "US"}
            ]
        }
    )

    label: str = Field(description="What to show and to send back as a need's `place`")
    kind: str = Field(description="zip, city, county, state or country")
    region: str | None
    country: str


class MatchPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_MATCH_EXAMPLE]})

    id: str
    name: str
    sector: str
    score: float
    components: dict[str, float] = Field(description="Score components, each in 0..1")
    reasons: list[str]
    covers: list[str]
    benefits: list[str] = Field(
        default_factory=list,
        description="the public benefits (SNAP, Medicaid) its cover of public programmes is "
        "for: the ones its profile or programmes name",
    )
    relevance: float | None = Field(
        None, description="absolute relevance to the need; partners below the floor are hidden"
    )
    distance_km: float | None
    city: str | None
    region: str | None
    country: str | None
    service_level: str | None = Field(
        None,
        description="how far its work reaches: local, state, national or international (a "
        "national body passes every place filter of its country); null in recommendations "
        "stored before it was kept",
    )
    service_regions: list[str] = Field(
        default_factory=list,
        description="the only regions (states) it serves when limited to some (a regulated "
        "utility, a regional commission): its reach is these, whatever its service level",
    )


class OfferedElsewherePublic(BaseModel):
    id: str
    name: str
    sector: str
    distance_km: float | None = Field(None, description="from the need's place, when both have one")


class CoalitionPublic(BaseModel):
    members: list[MatchPublic]
    roles: dict[str, str] = Field(description="role (business, government, nonprofit) -> id")
    covered: dict[str, list[str]] = Field(description="capability -> ids of members covering it")
    gaps: list[str]
    coverage: float | None = Field(
        description="share of the required capabilities covered (each benefit named counted "
        "apart when the ask for public programmes names two or more); null when the need asks "
        "for nothing the engine recognises"
    )
    benefits_asked: list[str] = Field(
        default_factory=list,
        description="the benefits the ask for public programmes names, when two or more "
        "(SNAP, Medicaid): each is counted apart in `coverage`",
    )
    uncovered_benefits: list[str] = Field(
        default_factory=list,
        description="the benefits the ask names, two or more (SNAP, Medicaid), that no member "
        "runs a programme for or names",
    )
    benefits_elsewhere: dict[str, OfferedElsewherePublic] = Field(
        default_factory=dict,
        description="of `uncovered_benefits`, benefit -> the organisation the filters allow "
        "closest to the need that runs a programme for it or names it",
    )
    unfilled_roles: list[str] = Field(
        default_factory=list,
        description="roles asked for that no partner above the relevance floor can fill",
    )
    empty_roles: list[str] = Field(
        default_factory=list,
        description="of the unfilled roles, those no organisation within the filters belongs "
        "to at all (none is listed there, rather than none close enough)",
    )
    absent_in_region: list[str] = Field(
        default_factory=list,
        description="of the empty roles, those no organisation of the data is based in the "
        "need's region (US state) at all: the service holds none there",
    )
    unsized_roles: list[str] = Field(
        default_factory=list,
        description="of the empty roles, those the size filter alone empties: the other "
        "filters pass some of their organisations, none of a size asked for (most registry "
        "profiles have no size on record)",
    )
    joins_for: dict[str, str] = Field(
        default_factory=dict,
        description="member id -> the part of the need (a clause of its text) that member "
        "joined the coalition to meet, for members beyond each role's first",
    )
    alternative_to: dict[str, str] = Field(
        default_factory=dict,
        description="member id -> id of the member that fills its role, for a runner-up "
        "suggested because the two scored too close to call",
    )
    offered_elsewhere: dict[str, OfferedElsewherePublic] = Field(
        default_factory=dict,
        description="capability -> the organisation closest to the need that offers it, for "
        "help asked for that none of the partners found offers but an organisation the "
        "filters allow does (a capability no such organisation offers is in `gaps`)",
    )
    offered_nearer: dict[str, OfferedElsewherePublic] = Field(
        default_factory=dict,
        description="capability -> an organisation based within reach of the need's place "
        "that offers it, for help no member offers that only partners far off or working "
        "nationwide in the sector lists offer",
    )


class RecommendationPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recommendation_id": EXAMPLE_REC_ID,
                    "model_version": "sentence-transformers/all-MiniLM-L6-v2@default-weights",
                    "index_generation": 3,
                    "need_id": None,
                    "required_capabilities": ["distribution", "funding"],
                    "results": [_MATCH_EXAMPLE],
                    "by_sector": {"business": [_MATCH_EXAMPLE]},
                    "coalition": {
                        "members": [_MATCH_EXAMPLE],
                        "roles": {"business": "org_3f2a9c1b7d4e"},
                        "covered": {"distribution": ["org_3f2a9c1b7d4e"]},
                        "gaps": ["funding"],
                        "coverage": 0.5,
                    },
                    "gaps": ["funding"],
                }
            ]
        }
    )

    recommendation_id: str = Field(description="Send it back with feedback")
    model_version: str
    index_generation: int
    need_id: str | None = Field(description="The stored need, when recommending for one")
    required_capabilities: list[str]
    results: list[MatchPublic]
    by_sector: dict[str, list[MatchPublic]]
    coalition: CoalitionPublic
    gaps: list[str] = Field(
        description="Required capabilities no organisation the filters allow offers"
    )
    unread_words: list[str] = Field(
        default_factory=list,
        description="the need's words the model does not know, when they are most of its "
        "words (not English, or typed at random): the answer rests on little",
    )
    few_words: bool = Field(
        default=False,
        description="the need says too little to match on (fewer than three words of three "
        "letters or more, such as 'help' or 'food bank'): the answer rests on a word or two; "
        "ask the user who is affected and what help is needed",
    )
    unread_help: list[str] = Field(
        default_factory=list,
        description="items of required_capabilities as listed that name no kind of help the "
        "service knows: not asked of any partner (when none is readable, the help is read "
        "from the text)",
    )
    withheld: list[str] = Field(
        default_factory=list,
        description="businesses left out because their trade works against the need, each "
        "with why ('tobacco companies, for a need about health, fire safety or young people')",
    )
    named_askers: list[str] = Field(
        default_factory=list,
        description="organisations left out because the need's text names them as the one "
        "asking ('We at Nike want to support ...': NIKE, Inc.), as a requester is",
    )
    asker_peers: list[str] = Field(
        default_factory=list,
        description="the other businesses of an asking company's own line of business, left "
        "out with it (Deckers Outdoor Corporation for NIKE, Inc.: same focus areas)",
    )


class MatchList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "org_9d8c7b6a5f4e",
                    "model_version": "sentence-transformers/all-MiniLM-L6-v2@default-weights",
                    "index_generation": 3,
                    "results": [_MATCH_EXAMPLE],
                }
            ]
        }
    )

    organisation_id: str
    model_version: str
    index_generation: int
    results: list[MatchPublic]


class NeedMatchPublic(BaseModel):
    id: str
    text: str
    score: float
    components: dict[str, float]
    reasons: list[str]
    distance_km: float | None
    kind: Literal["need", "programme"] = Field(
        "need",
        description="'need': a group asks for help; 'programme': a public programme that "
        "offers it (funding, services), listed as an opportunity to take part in",
    )


class OpportunityList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "org_3f2a9c1b7d4e",
                    "model_version": "sentence-transformers/all-MiniLM-L6-v2@default-weights",
                    "index_generation": 3,
                    "results": [
                        {
                            "id": "need_8c1d2e3f4a5b",
                            "text": _NEED_EXAMPLE["text"],
                            "score": 0.64,
                            "components": {"fit": 0.7, "proximity": 0.9},
                            "reasons": ["You offer delivery vans (distribution)"],
                            "distance_km": 4.2,
                        }
                    ],
                }
            ]
        }
    )

    organisation_id: str
    model_version: str
    index_generation: int
    results: list[NeedMatchPublic]


# feedback -----------------------------------------------------------------------------------
class Outcome(StrEnum):
    viewed = "viewed"
    contacted = "contacted"
    accepted = "accepted"
    declined = "declined"
    partnered = "partnered"
    not_relevant = "not_relevant"


class FeedbackCreate(InputModel):
    model_config = ConfigDict(
        **_IN,
        json_schema_extra={
            "examples": [
                {
                    "recommendation_id": EXAMPLE_REC_ID,
                    "organisation_id": "org_3f2a9c1b7d4e",
                    "outcome": "contacted",
                    "note": "Called their community team.",
                }
            ]
        },
    )

    recommendation_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    organisation_id: Id
    outcome: Outcome
    note: str | None = Field(None, max_length=2_000, pattern=NO_NUL)


class FeedbackPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "recommendation_id": EXAMPLE_REC_ID,
                    "organisation_id": "org_3f2a9c1b7d4e",
                    "outcome": "contacted",
                    "note": None,
                    "created_at": "2026-11-27T10:00:00Z",
                    "given_by": "api_key",
                }
            ]
        }
    )

    id: int
    recommendation_id: str
    organisation_id: str
    outcome: Outcome
    note: str | None
    created_at: datetime
    given_by: Literal["api_key", "person", "anonymous"] = Field(
        description="Who gave it: an API key, a person signed in on the web page, or an "
        "anonymous visitor (stored, but never used as a training label)",
    )


class FeedbackPage(Page):
    items: list[FeedbackPublic]


# keys ---------------------------------------------------------------------------------------
class KeyCreate(InputModel):
    model_config = ConfigDict(
        **_IN, json_schema_extra={"examples": [{"name": "food bank editor", "role": "editor"}]}
    )

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    role: Role


class KeyPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "key_5b1e0c2d9a8f",
                    "name": "food bank editor",
                    "role": "editor",
                    "prefix": "a1b2c3d4",
                    "created_at": "2026-11-27T10:00:00Z",
                    "revoked": False,
                }
            ]
        }
    )

    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked: bool


class KeyCreated(KeyPublic):
    key: str = Field(description="The secret, shown once: store it now")


# health -------------------------------------------------------------------------------------
class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


class RegistryStatus(BaseModel):
    shared: bool = Field(description="The registry is shared through PostgreSQL")
    local: dict[str, str | None] = Field(
        description="The version each pointer (CURRENT: ranking weights, EMBEDDING: the "
        "embedding model) publishes in this data directory; null: the default"
    )
    database: dict[str, str | None] | None = Field(
        description="The same in the shared registry, as the last sync read it (null: not "
        "shared, or never read)"
    )
    in_sync: bool | None = Field(
        description="Local pointers equal the database's at the last sync (null: not shared)"
    )
    serving: list[str] = Field(description="The registry versions this process serves")
    syncs: int = Field(description="Syncs run by this process (at start and on MODEL changes)")
    last_sync_at: datetime | None = None
    last_sync_seconds: float | None = None
    last_sync_problems: list[str] = Field(
        default_factory=list, description="What the last sync could not do (nothing served)"
    )
    last_error: str | None = Field(
        None, description="The last problem any sync met (a tampered archive, a digest mismatch)"
    )
    last_error_at: datetime | None = None
    skipped_at: datetime | None = Field(
        None, description="When a sync was last skipped: a writer on this machine held the lock"
    )


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "ready": True,
                    "model_version": "sentence-transformers/all-MiniLM-L6-v2@default-weights",
                    "index_generation": 3,
                    "organisations": 1200,
                }
            ]
        }
    )

    status: str
    ready: bool
    model_version: str | None = None
    index_generation: int | None = None
    organisations: int | None = None
    detail: str | None = None
    registry: RegistryStatus | None = Field(
        None, description="This process's copy of the model registry and its syncs"
    )


# analysts: ingest, training, model registry -------------------------------------------------
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class IngestRowError(BaseModel):
    row: int = Field(description="1-based data row (a CSV header is not counted)")
    column: str | None = Field(description="The offending column, when one is to blame")
    reason: str


class IngestStored(BaseModel):
    inserted: int
    updated: int
    unchanged: int
    owned: list[str] = Field(
        default_factory=list,
        description="Ids of existing owned organisations in the file: their owner and contact "
        "were kept (unless an admin sent ownership=true)",
    )


class IngestReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "file": "members.csv",
                    "kind": "organisation",
                    "rows": 3,
                    "accepted": 2,
                    "rejected_rows": 1,
                    "rejected": [{"row": 2, "column": "sector", "reason": "unknown sector 'xyz'"}],
                    "stored": {"inserted": 2, "updated": 0, "unchanged": 0},
                    "dry_run": False,
                    "error": None,
                    "error_field": None,
                }
            ]
        }
    )

    file: str = Field(description="The uploaded file's name")
    kind: str = Field(description="organisation or need")
    rows: int = Field(description="Data rows read")
    accepted: int
    rejected_rows: int = Field(description="Rows with at least one error")
    rejected: list[IngestRowError] = Field(description="Every error: row, column and reason")
    warnings: list[IngestRowError] = Field(
        default_factory=list,
        description="Accepted rows with a problem, e.g. an address that does not geocode",
    )
    stored: IngestStored | None = Field(description="null on a dry run or with nothing accepted")
    dry_run: bool
    error: str | None = Field(
        None,
        description="Why the whole upload was refused (unknown format, unreadable file, bad "
        "mapping); then nothing was read or stored",
    )
    error_field: str | None = Field(
        None, description="What the error is about: file, mapping, format or a mapped field"
    )


class TrainRequest(InputModel):
    model_config = ConfigDict(
        **_IN,
        json_schema_extra={"examples": [{"min_pairs": 50, "split": "time", "max_test": 500}]},
    )

    out_version: str | None = Field(
        None, pattern=VERSION_PATTERN, description="Name of the new version (default: vNNNN)"
    )
    min_pairs: Annotated[int, Number] = Field(
        50, ge=1, le=1_000_000, description="Fewer: keep the default weights"
    )
    negatives: Annotated[int, Number] = Field(
        20, ge=0, le=1_000, description="Sampled negatives per query"
    )
    max_queries: Annotated[int, Number] = Field(
        3000, ge=1, le=1_000_000, description="At most N training queries"
    )
    pointwise: Flag = Field(False, description="No pairwise (per query) training")
    split: str = Field("time", pattern=r"^(time|id)$", description="time or id")
    test_share: Annotated[float, Number] = Field(
        0.2, gt=0, lt=1, description="Share of queries held out"
    )
    max_test: Annotated[int, Number] = Field(
        500, ge=1, le=1_000_000, description="At most N held-out queries"
    )
    seed: Annotated[int, Number] = Field(0, ge=0, le=2**31 - 1)
    feedback: Flag = Field(True, description="Learn from API feedback too, not only history")
    resume: Flag = Field(True, description="Reuse the checkpoint of an interrupted same fit")


class TrainStatus(StrEnum):
    queued = "queued"  # train_jobs = database: waiting for `matcher worker`
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class TrainJob(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "train_5c2e9a1b7d3f",
                    "status": "succeeded",
                    "stage": "default",
                    "done": 120,
                    "total": 120,
                    "started_at": "2026-11-27T10:00:00Z",
                    "finished_at": "2026-11-27T10:03:12Z",
                    "version": "v0003",
                    "metrics": {"candidate": {"ndcg@10": 0.41}, "default": {"ndcg@10": 0.38}},
                    "verdict": "v0003 is at least as good as v0002 on ndcg@10 (0.41 vs 0.4)",
                    "weights": {"fit": 0.4, "coverage": 0.2, "proximity": 0.4},
                    "reused_queries": 0,
                    "error": None,
                }
            ]
        }
    )

    job_id: str
    status: TrainStatus
    stage: str | None = Field(
        description="features (the long step), then the model being evaluated"
    )
    done: int = Field(description="Items of the current stage finished")
    total: int = Field(description="Items of the current stage")
    started_at: datetime
    finished_at: datetime | None
    version: str | None = Field(description="The registered version, once succeeded")
    metrics: dict[str, dict[str, float | int | str | None]] | None = Field(
        description="Held-out metrics per model (candidate, published, default)"
    )
    verdict: str | None = Field(description="How the candidate compares with the published one")
    weights: dict[str, float] | None
    reused_queries: int | None = Field(description="Training queries reused from a checkpoint")
    skipped_labels: dict[str, int] | None = Field(
        None, description="Labels the fit left out, by reason (they never make it fail)"
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What the analyst should know of the fit (labels left out; training "
        "queries from a small part of the catalog, which publishing then needs force for)",
    )
    error: str | None = Field(description="Why it failed")


class ModelVersion(BaseModel):
    version: str
    kind: str = Field("weights", description="weights (ranking) or embedding (a fine-tuned model)")
    created_at: str | None
    primary: str | None = Field(description="The primary metric's name")
    value: float | None = Field(description="The primary metric on held-out queries")
    weights: dict[str, float] | None
    fallback: str | None = Field(description="Why the default weights were kept, if they were")
    published: bool
    previous: bool = Field(description="The rollback target")
    split: dict[str, Any] | None = Field(
        None,
        description="The held-out split `value` was measured on (by, test_share, max_test, "
        "seed); null when not recorded (older versions, embedding models)",
    )
    data_hash: str | None = Field(
        None,
        description="The history the split was cut from: the same split of another "
        "history holds other queries",
    )
    narrow: bool = Field(
        False,
        description="its training queries come from a small part of where the service is asked "
        "(or of the catalog): publishing it needs force=true",
    )


class ModelList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current": "v0002",
                    "versions": [
                        {
                            "version": "v0002",
                            "created_at": "2026-11-27T10:03:12+00:00",
                            "primary": "ndcg@10",
                            "value": 0.41,
                            "weights": {"fit": 0.4, "coverage": 0.2, "proximity": 0.4},
                            "fallback": None,
                            "published": True,
                            "previous": False,
                        }
                    ],
                }
            ]
        }
    )

    current: str | None = Field(description="The published version; null: the default weights")
    versions: list[ModelVersion]
    comparable: bool = Field(
        True,
        description="whether the versions' figures were measured on the same held-out queries "
        "(the same split of the same history); when false, `note` says which differ",
    )
    note: str | None = Field(None, description="Why the figures are not comparable, if so")


REPORT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,190}$"


_REPORT_EXAMPLE: dict[str, Any] = {
    "name": "v0002-20261206T190312",
    "version": "v0002",
    "created_at": "2026-12-06T19:03:12Z",
    "verdict": "v0002 is at least as good as the published model on ndcg@10 (0.4123 vs 0.4010)",
    "html_url": "/v1/analyst/reports/v0002-20261206T190312",
    "json_url": "/v1/analyst/reports/v0002-20261206T190312.json",
}


class EvaluationReport(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_REPORT_EXAMPLE]})

    name: str = Field(description="The report's file name without .html / .json")
    version: str | None = Field(description="The model version it evaluates")
    created_at: datetime = Field(description="When it was written")
    verdict: str | None = Field(description="The verdict it states, as its JSON says")
    html_url: str | None = Field(description="The page as written (null: no HTML file)")
    json_url: str | None = Field(description="The figures as written (null: no JSON file)")


class EvaluationReportList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_REPORT_EXAMPLE]}]})

    items: list[EvaluationReport] = Field(description="Newest first")


class ModelPublished(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": "v0003",
                    "changed": True,
                    "previous": "v0002",
                    "primary": "ndcg@10",
                    "candidate": 0.41,
                    "baseline": 0.4,
                    "forced": False,
                }
            ]
        }
    )

    version: str
    changed: bool = Field(description="false: it was already published")
    previous: str | None = Field(description="The version published before (rollback target)")
    primary: str | None = None
    candidate: float | None = None
    baseline: float | None = None
    forced: bool = False


class ModelRolledBack(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"rolled_back_from": "v0003", "current": "v0002"}]}
    )

    rolled_back_from: str | None
    current: str | None = Field(description="Now published; null: the default weights")
