"""Typed, validated domain objects: Organisation, Need, Filters, Match, Coalition."""

from __future__ import annotations

import hashlib
import math
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Sector(StrEnum):
    business = "business"
    government = "government"
    nonprofit = "nonprofit"
    community = "community"
    academic = "academic"


class SizeBand(StrEnum):
    micro = "micro"  # fewer than 10 people
    small = "small"  # 10 to 49
    medium = "medium"  # 50 to 249
    large = "large"  # 250 or more


SERVED_REGIONS_MAX = 20  # regions an organisation may be limited to (service_regions)
# the longest focus an organisation's aligned partners are asked for (`home_need`'s text)
FOCUS_MAX = 500
# Organisation.sources that say people keep the profile here, not a file: "registered" (its
# members added it, matcher.accounts.groups), "edited" (changed through the API or the page).
# A re-import of a registry keeps such a profile as its people left it (training.linkage_store),
# and record linkage never reads them as provenance (two groups both "registered" are not one).
REGISTERED_SOURCE = "registered"
# the focus area naming an agency's parent body ("part of labor department": the federal
# importer writes it, the organisation page says it apart as "Part of")
PART_OF = "part of "
EDITED_SOURCE = "edited"
PEOPLE_SOURCES = frozenset({REGISTERED_SOURCE, EDITED_SOURCE})


class ServiceLevel(StrEnum):
    """How far an organisation's work reaches; hard place filters apply to this area."""

    local = "local"  # around its office (its city, or service_radius_km)
    state = "state"  # its whole region (state, province)
    national = "national"  # every region of its country
    international = "international"  # every country


SECTORS: tuple[str, ...] = tuple(s.value for s in Sector)
LEVELS: tuple[str, ...] = tuple(s.value for s in ServiceLevel)
SIZES: tuple[str, ...] = tuple(s.value for s in SizeBand)
# The three roles a cross-sector coalition tries to fill; community groups fill the nonprofit role.
COALITION_ROLES: dict[str, tuple[str, ...]] = {
    "business": ("business",),
    "government": ("government",),
    "nonprofit": ("nonprofit", "community"),
}


def utcnow() -> datetime:
    return datetime.now(UTC)


# The one id grammar of organisations and needs (routes, importers, the store): no '/', no
# '..', no spaces, so every stored id can be read and deleted through the routes.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _clean_list(value: Any, *, keep_case: bool = False) -> list[str]:
    """Items of a list, or of a text separated by `|`, `;` or else `,`: white space made single,
    each once (whatever its case), lower-cased unless `keep_case` (what a person wrote for others
    to read: "In Spanish", not "in spanish")."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(";", "|").split("|") if ("|" in value or ";" in value) else [value]
        if len(parts) == 1 and "," in value:
            parts = value.split(",")
        value = parts
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        s = " ".join(str(item).split()).strip()
        if not keep_case:
            s = s.lower()
        if s and s.lower() not in seen:
            seen.add(s.lower())
            out.append(s)
    return out


def _reject_nul(value: Any) -> Any:
    """NUL characters are refused: PostgreSQL cannot store them and they are never meaningful."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    if isinstance(value, list):
        for item in value:
            _reject_nul(item)
    return value


def _country_code(value: Any) -> Any:
    """A country name or code as ISO 3166 alpha-2 ('USA', 'United States' -> 'US')."""
    if not isinstance(value, str):
        return value
    from matcher.places import normalise_country

    return normalise_country(value)


def _check_coordinates(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("lat and lon must be given together")
    if lat is not None and (not math.isfinite(lat) or not -90 <= lat <= 90):
        raise ValueError(f"latitude {lat} is outside -90..90")
    if lon is not None and (not math.isfinite(lon) or not -180 <= lon <= 180):
        raise ValueError(f"longitude {lon} is outside -180..180")


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str | None = None
    region: str | None = None
    country: str | None = None
    postcode: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


SHORT_NAME_MAX = 32


class Organisation(BaseModel):
    """An organisation profile. Only name, sector and description are required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(
        default_factory=lambda: new_id("org"), min_length=1, max_length=128, pattern=ID_PATTERN
    )
    name: str = Field(min_length=1, max_length=300)
    # what it is also called, often its initials ("USDA" for the registry's "Agriculture
    # Department"): found by name search, never embedded
    short_name: str | None = Field(None, max_length=SHORT_NAME_MAX)
    sector: Sector
    description: str = Field(min_length=1, max_length=20_000)
    focus_areas: list[str] = Field(default_factory=list)
    offers: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)
    city: str | None = None
    region: str | None = None
    country: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    service_radius_km: float | None = Field(None, gt=0, le=20_000)
    size: SizeBand | None = None
    # None: local (the office's city or service radius)
    service_level: ServiceLevel | None = None
    # the only regions (states) it serves, when it serves some but not all of its country (a
    # federal regional commission serves its member states): place filters then pass it for
    # these regions only, whatever its service level; empty: its service level decides
    service_regions: list[str] = Field(default_factory=list, max_length=SERVED_REGIONS_MAX)
    # a code of a cause taxonomy given by a third party (the IRS's NTEE code for a nonprofit):
    # a label `matcher train causes` learns causes from, never shown as a reason by itself
    cause_code: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    website: str | None = None
    contact: str | None = None
    published: bool = True
    # False for historical bodies (abolished, replaced, superseded): left out of recommendations
    active: bool = True
    # where the record came from ("irs:ein-010017496", "sp500:AAPL"); merged records keep all
    sources: list[str] = Field(default_factory=list)
    owner: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)

    @field_validator(
        "id",
        "name",
        "description",
        "focus_areas",
        "offers",
        "needs",
        "city",
        "region",
        "country",
        "postcode",
        "website",
        "contact",
        "sources",
        "owner",
        "service_regions",
        mode="before",
    )
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        return _reject_nul(v)

    @field_validator("service_regions", mode="before")
    @classmethod
    def _regions(cls, v: Any) -> list[str]:
        """Regions as given (a state's code or name), trimmed, each once, in order."""
        items = _clean_list(v, keep_case=True) if isinstance(v, str) else list(v or [])
        out: list[str] = []
        for item in items:
            text = " ".join(str(item).split())
            if text and text.lower() not in {o.lower() for o in out}:
                out.append(text.upper() if len(text) == 2 else text)
        return out

    @field_validator("sources", mode="before")
    @classmethod
    def _sources(cls, v: Any) -> list[str]:
        items = [v] if isinstance(v, str) else list(v or [])
        return list(dict.fromkeys(" ".join(str(i).split()) for i in items if str(i).strip()))

    @field_validator("focus_areas", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _clean_list(v)  # codes of the catalog's focus table: one case

    @field_validator("offers", "needs", mode="before")
    @classmethod
    def _written(cls, v: Any) -> list[str]:
        return _clean_list(v, keep_case=True)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, v: Any) -> Any:
        return _country_code(v)

    @field_validator("city", "region", "postcode", "website", "contact", mode="before")
    @classmethod
    def _blank_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _coords(self) -> Organisation:
        _check_coordinates(self.lat, self.lon)
        return self

    def profile_text(self) -> str:
        """The text that is embedded and indexed for this organisation."""
        parts = [self.name + ".", self.description]
        if self.focus_areas:
            parts.append("Focus: " + ", ".join(self.focus_areas) + ".")
        if self.offers:
            parts.append("Offers: " + ", ".join(self.offers) + ".")
        if self.needs:
            parts.append("Seeks: " + ", ".join(self.needs) + ".")
        return " ".join(parts)

    def text_hash(self) -> str:
        return hashlib.sha256(self.profile_text().encode("utf-8")).hexdigest()


class Need(BaseModel):
    """A problem statement from a community group, business or agency."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(
        default_factory=lambda: new_id("need"), min_length=1, max_length=128, pattern=ID_PATTERN
    )
    text: str = Field(min_length=3, max_length=5_000)
    title: str | None = None
    # a place name ("Providence, RI", "02903", "Sussex County, Delaware", "Rhode Island"):
    # resolved offline; fills city, region, country, lat and lon where they are not given, and
    # (in Engine.recommend) makes its region and country hard filters unless others are given
    place: str | None = Field(None, max_length=200)
    city: str | None = None
    region: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = Field(None, gt=0, le=20_000)
    required_capabilities: list[str] = Field(default_factory=list)
    wanted_sectors: list[Sector] = Field(default_factory=list)
    requester_id: str | None = None
    status: str = Field("open", pattern="^(open|closed)$")
    # "need": help the requester seeks; "programme": an opportunity the requester offers (e.g. a
    # federal assistance programme), evidence of what it does
    kind: str = Field("need", pattern="^(need|programme)$")
    owner: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator(
        "id",
        "text",
        "title",
        "place",
        "city",
        "region",
        "country",
        "required_capabilities",
        "requester_id",
        "owner",
        mode="before",
    )
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        return _reject_nul(v)

    @field_validator("required_capabilities", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _clean_list(v)

    @field_validator("wanted_sectors", mode="before")
    @classmethod
    def _sectors(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [s for s in _clean_list(v)]
        return v

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, v: Any) -> Any:
        return _country_code(v)

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be blank")
        return v

    @model_validator(mode="after")
    def _coords(self) -> Need:
        if self.place is not None and not self.place.strip():
            self.place = None
        if self.place:
            self._fill_from_place()
        elif self.radius_km is not None and self.lat is None and self.lon is None and self.city:
            self._fill_from_city()
        _check_coordinates(self.lat, self.lon)
        if self.radius_km is not None and self.lat is None:
            raise ValueError(
                "radius_km needs a point to measure from: lat and lon, a place, or a city "
                "with its region or country"
            )
        return self

    def _fill_from_city(self) -> None:
        """The point of `city` (with its region, or its country outside the US), resolved as
        a `place` is, to measure `radius_km` from: a client that sent city "Providence" and
        region "RI" with radius_km was told "radius_km needs lat and lon, or a place". A city
        that names no one place is a PlaceError on the field `city`, with the candidates."""
        from matcher.errors import PlaceError
        from matcher.places import resolve
        from matcher.places.gazetteer import country_name

        assert self.city is not None
        parts = [self.city]
        if self.country and self.country != "US":
            parts.append(country_name(self.country))  # the world gazetteer has no regions
        else:
            parts += [x for x in (self.region, self.country and "United States") if x]
        text = ", ".join(parts)
        how = (
            "radius_km is measured from city with its region or country; or give place, "
            "or lat and lon"
        )
        try:
            found = resolve(text)
        except PlaceError as exc:
            raise type(exc)(
                f"{exc.message} ({how})", place=text, candidates=exc.candidates, field="city"
            ) from None
        if found.lat is None or found.lon is None:
            raise PlaceError(
                f"'{text}' is {found.label}, a whole {found.kind}: no point to measure "
                f"radius_km from ({how})",
                place=text,
                field="city",
            )
        self.lat, self.lon = found.lat, found.lon
        self.region = self.region or found.region
        self.country = self.country or found.country

    def _fill_from_place(self) -> None:
        """Resolve `place` (UnknownPlaceError / AmbiguousPlaceError, naming it, when it cannot
        be) and fill the location fields left empty; given fields win."""
        from matcher.places import normalise_country, region_key, resolve

        assert self.place is not None
        found = resolve(self.place)
        # a place and a region or country that disagree ("Providence, RI" with region MA or
        # country GB) gave results measured from one and filtered by the other: no food
        # pantry of Providence, or a British company "nationwide" there (real data walk)
        if self.region and found.region and region_key(self.region) != region_key(found.region):
            raise ValueError(
                f"place '{self.place}' is in {found.region}, but region is '{self.region}': "
                "give one or make them agree"
            )
        try:
            country = normalise_country(self.country)
        except ValueError:
            country = self.country
        if country and found.country and country != found.country:
            raise ValueError(
                f"place '{self.place}' is in {found.country}, but country is "
                f"'{self.country}': give one or make them agree"
            )
        self.city = self.city or found.city
        self.region = self.region or found.region
        self.country = self.country or found.country
        if self.lat is None and self.lon is None and found.lat is not None:
            self.lat, self.lon = found.lat, found.lon

    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def home_need(org: Organisation, text: str, **extra: Any) -> Need:
    """A need asked by `org`, placed at its home (what it seeks, or the work it would
    support): its place is the organisation's, so nearer partners rank higher."""
    return Need(
        text=text,
        city=org.city,
        region=org.region,
        country=org.country,
        lat=org.lat,
        lon=org.lon,
        requester_id=org.id,
        **extra,
    )


class Filters(BaseModel):
    """Hard constraints, applied exactly. Empty means no constraint."""

    model_config = ConfigDict(extra="forbid")

    sectors: list[Sector] = Field(default_factory=list)
    country: str | None = None
    region: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float | None = Field(None, gt=0)
    # the region (US state) the `near` point lies in, when known (a need's resolved place): a
    # body limited to some regions (service_regions) passes a radius filter only if it serves it
    near_region: str | None = None
    sizes: list[SizeBand] = Field(default_factory=list)
    exclude_ids: list[str] = Field(default_factory=list)
    # historical bodies (active=False) are left out unless asked for
    include_inactive: bool = False

    @field_validator("country", "region", "near_region", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) and v.strip() else None

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        # regions stay as given: the catalog compares them by places.region_key (names = codes)
        return _country_code(v)  # type: ignore[no-any-return]

    @model_validator(mode="after")
    def _geo(self) -> Filters:
        if self.near is not None:
            _check_coordinates(self.near[0], self.near[1])
        if self.radius_km is not None and self.near is None:
            raise ValueError("radius_km needs near=(lat, lon)")
        if self.near_region is not None and self.near is None:
            raise ValueError("near_region needs near=(lat, lon)")
        return self


class Match(BaseModel):
    """One recommended partner with its score breakdown and readable reasons."""

    id: str
    name: str
    sector: str
    score: float
    components: dict[str, float]
    reasons: list[str]
    covers: list[str] = Field(default_factory=list)
    # the public benefits its cover of public programmes is for ("SNAP", "Medicaid")
    benefits: list[str] = Field(default_factory=list)
    # absolute relevance to the need (best raw similarity of its evidence); the floor's measure
    relevance: float | None = None
    distance_km: float | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    # how far its work reaches (local, state, national, international); None in records
    # stored before it was kept
    service_level: str | None = None
    # the only regions it serves, when limited to some (a regulated utility, a regional
    # commission): its reach is these, not its service level's
    service_regions: list[str] = Field(default_factory=list)


class OfferedElsewhere(BaseModel):
    """An organisation the need's filters allow that offers help none of the partners found
    offers (matcher.gap_offers)."""

    id: str
    name: str
    sector: str
    distance_km: float | None = None


class Coalition(BaseModel):
    members: list[Match]
    roles: dict[str, str]  # role -> organisation id
    covered: dict[str, list[str]]  # capability -> ids of members covering it
    gaps: list[str]  # required capabilities no organisation the filters allow offers
    # share of the required capabilities covered (each benefit named counted apart when the ask
    # names two or more); None when the need asks for none we recognise
    coverage: float | None
    # the benefits the ask names when two or more, each counted apart in `coverage`
    benefits_asked: list[str] = Field(default_factory=list)
    # of those, the ones no member runs a programme for or names
    uncovered_benefits: list[str] = Field(default_factory=list)
    # of those, benefit -> the organisation the filters allow closest to the need that does
    benefits_elsewhere: dict[str, OfferedElsewhere] = Field(default_factory=dict)
    # roles asked for that no partner above the relevance floor can fill
    unfilled_roles: list[str] = Field(default_factory=list)
    # of those, the roles no organisation within the filters belongs to at all (none listed)
    empty_roles: list[str] = Field(default_factory=list)
    # of those, the roles no organisation of the data is based in the need's state at all (a
    # wider distance reaches one only beyond the state; the data may hold none of it)
    absent_in_region: list[str] = Field(default_factory=list)
    # of the empty roles, those the size filter alone empties: other filters pass some of
    # their organisations, of no size asked (most registry profiles have no size on record)
    unsized_roles: list[str] = Field(default_factory=list)
    # member id -> the part of the need (a clause of its text) it joined to meet, for members
    # beyond each role's first
    joins_for: dict[str, str] = Field(default_factory=dict)
    # member id -> id of the role's first member it is an alternative to (the two scored too
    # close to call)
    alternative_to: dict[str, str] = Field(default_factory=dict)
    # capability -> the organisation closest to the need that offers it, for the help asked
    # for that none of the partners found offers but some organisation the filters allow does
    offered_elsewhere: dict[str, OfferedElsewhere] = Field(default_factory=dict)
    # capability -> an organisation based within reach of the need's place that offers it, for
    # the help no member offers that only partners far off (or nationwide) in the sector lists
    # offer (matcher.gap_offers.shown_only_far)
    offered_nearer: dict[str, OfferedElsewhere] = Field(default_factory=dict)


class Recommendation(BaseModel):
    need: Need
    required_capabilities: list[str]
    results: list[Match]
    by_sector: dict[str, list[Match]]
    coalition: Coalition
    gaps: list[str]
    model_version: str
    index_generation: int
    # the need's words the model does not know, when they are most of its words (not English,
    # or typed at random): the answer rests on little (matcher.language)
    unread_words: list[str] = Field(default_factory=list)
    # the need says too little to match on: fewer than matcher.language.FEW_WORDS words ("help",
    # "food bank"); the answer rests on a word or two
    few_words: bool = False
    # the listed required help that names no kind of help the service knows: not asked of
    # anyone (matcher.need_reading.unread_help)
    unread_help: list[str] = Field(default_factory=list)
    # the businesses left out because their trade works against the need, each said as
    # "tobacco companies, for a need about health, fire safety or young people" (matcher.conflicts)
    withheld: list[str] = Field(default_factory=list)
    # the organisations left out because the need names them as the one asking ("We at Nike
    # want ...": NIKE, Inc.; matcher.asker_names)
    named_askers: list[str] = Field(default_factory=list)
    # the other businesses of an asking company's own line of business, left out with it
    # (Deckers Outdoor Corporation for NIKE, Inc.)
    asker_peers: list[str] = Field(default_factory=list)


class NeedMatch(BaseModel):
    """An open need an organisation could help with."""

    id: str
    text: str
    score: float
    components: dict[str, float]
    reasons: list[str]
    distance_km: float | None = None
    # "need" (a group asks for help) or "programme" (a public programme offers it)
    kind: str = "need"
