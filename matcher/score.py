"""Interpretable score components and readable reasons for each candidate partner.

Every component is in [0, 1]:
- fit: how closely the partner's profile matches the need's text (dense and lexical relevance,
  standardised over the partners that pass the filters);
- coverage: share of the need's required capabilities that the partner's offers cover;
- reciprocity: share of the partner's own needs that the requester (or, with none given, the
  community the need comes from) meets, blended with shared focus areas: what the partner gains;
- proximity: decays with distance from the need's location, or by same city/region/country;
- freshness: decays with the age of the profile, measured at the start of the day (UTC), so
  the same question gets the same scores all day, not ones that differ in the fourth decimal
  from one second to the next.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from matcher import benefits, capabilities, funding_kinds, populations
from matcher.catalog import Profile
from matcher.domain import Need, Sector, utcnow
from matcher.evidence import ProgrammeHit
from matcher.geo import km_said
from matcher.index.analyzer import STOP_WORDS
from matcher.meaning import short_phrase
from matcher.names import readable_name

COMPONENTS = ("fit", "coverage", "reciprocity", "proximity", "freshness")
PROGRAMME_REASON_SIMILARITY = 0.3  # a programme this close to the need is named in the reasons
RELATED_PROGRAMME = "Runs a related programme"  # how that reason begins


def runs_related_programme(reasons: list[str]) -> bool:
    """Whether a card's reasons name a related programme it runs."""
    return any(r.startswith(RELATED_PROGRAMME) for r in reasons)


OFFERING_REASON_SIMILARITY = 0.3  # so is a company's offering clause this close (its score)
NEUTRAL = 0.5
# With no requesting organisation, a community need still brings its community to the table.
IMPLIED_REQUESTER_OFFERS = {"community_reach": "access to the community behind this need"}
_WORD = re.compile(r"[a-z][a-z\-']{3,}")
_STOP = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "have",
        "their",
        "they",
        "them",
        "will",
        "were",
        "been",
        "into",
        "about",
        "which",
        "while",
        "where",
        "when",
        "also",
        "more",
        "most",
        "other",
        "over",
        "such",
        "than",
        "then",
        "there",
        "these",
        "those",
        "very",
        "what",
        "your",
        "ours",
        "ourselves",
        "need",
        "needs",
        "help",
        "people",
        "local",
        "community",
        "services",
        "service",
        "provide",
        "provides",
        "providing",
        "support",
        "programs",
        "program",
        "programmes",
        "programme",
        "organisation",
        "organization",
        "through",
        "including",
    ]
)


@dataclass
class Scored:
    position: int
    score: float
    components: dict[str, float]
    distance_km: float | None
    covers: dict[str, str]  # capability -> partner's offer phrase
    gains: dict[str, str]  # capability -> partner's need phrase met
    shared_focus: list[str] = field(default_factory=list)
    # absolute relevance (best raw similarity of any evidence); the floor applies to it
    relevance: float | None = None
    programme: ProgrammeHit | None = None  # its programme closest to the need, if any
    # a company's offering clause closest to the need (matcher.offerings): (score, clause)
    offering: tuple[float, str] | None = None
    offers: dict[str, str] = field(default_factory=dict)  # all it offers (covers: the asked)


# Relevance floors per embedding model, calibrated on benchmark T4 dev (README, "Relevance floor").
# The highest floor that keeps at least 97.5% of the relevant partners in the top-10 lists of
# every sector (T4 dev, MiniLM: 0.20 keeps 98.3% of them and drops 5% of the others; 0.25
# would keep 90%); what it removes is the clearly unrelated (e.g. a sleep-apnoea device maker
# for teen suicide prevention, relevance 0.13).
# how a reason saying what a partner would gain from the requester begins (a page that promises
# "what X offers that they need" says so when no card does)
GAIN_REASON = "Would gain"

CALIBRATED_FLOORS: dict[str, float] = {"sentence-transformers/all-MiniLM-L6-v2": 0.20}


def relevance_floor(
    configured: float | None, model_name: str, calibrated: float | None = None
) -> float:
    """The floor in force: the configured one, else the one calibrated for a registered model
    (its manifest: matcher.embedding.published.embedder_floor), else the table's for the
    model whatever backend runs it (int8 ONNX appends "+onnx-int8" to the name; its vectors
    are the same model's to about 0.01), else none."""
    if configured is not None:
        return configured
    if calibrated is not None:
        return calibrated
    return CALIBRATED_FLOORS.get(model_name.split("+", 1)[0], -math.inf)


def relevance(dense: float, *evidence: float) -> float:
    """A candidate's absolute relevance: its best raw similarity to the need over the profile
    and every other evidence it gives (NaN: no such evidence). Unlike the fused score, which is
    standardised within the filtered set, this does not rise just because the rest is worse."""
    values = [v for v in (dense, *evidence) if not math.isnan(v)]
    return max(values)


def fit_from_relevance(z: float) -> float:
    """Fit from the fused relevance: how many standard deviations the partner stands above a
    typical allowed profile (0 at or below average, 0.7 at 3 sd, approaching 1)."""
    return 1.0 - math.exp(-max(z, 0.0) / 2.5)


def fit_from_cosine(cosine: float) -> float:
    """Fit from a plain cosine between centred embeddings (needs matched to an organisation)."""
    return min(1.0, max(0.0, cosine / 0.6))


def proximity_component(
    need: Need, prof: Profile, distance_km: float | None, scale_km: float
) -> float:
    org = prof.org
    if distance_km is not None:
        if org.service_radius_km is not None and distance_km <= org.service_radius_km:
            return max(0.8, math.exp(-distance_km / scale_km))
        return math.exp(-distance_km / scale_km)
    if need.lat is not None:
        return 0.2  # the need has a place; the partner gave no coordinates
    if need.city and org.city and need.city.lower() == org.city.lower():
        return 1.0
    if need.region and org.region and need.region.lower() == org.region.lower():
        return 0.7
    if need.country and org.country and need.country == org.country:
        return 0.4
    if need.city or need.region or need.country:
        return 0.1
    return NEUTRAL


def freshness_clock(now: datetime) -> datetime:
    """The clock freshness is measured against: the start of `now`'s day, UTC."""
    day = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def freshness_component(updated_at: datetime, now: datetime) -> float:
    updated = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
    age_days = max(0.0, (freshness_clock(now) - updated).total_seconds() / 86400)
    return math.exp(-age_days / 730)


def coverage_confidence(required_explicit: bool, offers_inferred: bool) -> float:
    """How much the coverage component counts: full when the need lists its capabilities and the
    partner lists its offers; less when either was read from free text by keywords (measured on
    benchmark T1: keyword-inferred coverage at full weight costs 0.09 P@10)."""
    return (1.0 if required_explicit else 0.5) * (0.25 if offers_inferred else 1.0)


def score_candidate(
    position: int,
    prof: Profile,
    need: Need,
    required: Mapping[str, str],
    requester: Profile | None,
    *,
    fit: float,
    required_explicit: bool = True,
    distance_km: float | None,
    weights: Mapping[str, float],
    scale_km: float,
    now: datetime | None = None,
    offers: Mapping[str, str] | None = None,
    asked_benefits: benefits.AskedBenefits | None = None,
) -> Scored:
    """`offers`: what the partner offers (capability -> its phrase, "" when read from its
    profile by meaning); its listed offers when not given. An ask naming a public benefit is
    covered only by a partner whose profile or programmes name it (`asked_benefits`, the
    request's: matcher.benefits)."""
    offers = prof.offers if offers is None else offers
    if asked_benefits is not None:
        offers = asked_benefits.offers(offers, benefits.of_profile(prof.org), position)
    offers = funding_kinds.answering(offers, required, need.text)  # a lender: no stipends
    covers = {c: offers[c] for c in required if c in offers}
    coverage = len(covers) / len(required) if required else NEUTRAL
    giver = requester.offers if requester is not None else IMPLIED_REQUESTER_OFFERS
    needs = prof.needs
    gains = {c: needs[c] for c in needs if c in giver}
    org = prof.org
    shared: list[str] = []
    if requester is not None:
        shared = sorted(set(requester.org.focus_areas) & set(org.focus_areas))
    if needs:
        gain = len(gains) / len(needs)
        focus = min(1.0, len(shared) / 2) if requester is not None else 0.0
        reciprocity = 0.75 * gain + 0.25 * focus if requester is not None else gain
    else:
        reciprocity = NEUTRAL
    proximity = proximity_component(need, prof, distance_km, scale_km)
    freshness = freshness_component(org.updated_at, now or utcnow())
    comps = {
        "fit": fit,
        "coverage": coverage,
        "reciprocity": reciprocity,
        "proximity": proximity,
        "freshness": freshness,
    }
    w_fit, w_cov, w_rec, w_prox, w_fresh = _component_weights(weights)
    w_cov *= coverage_confidence(required_explicit, prof.offers_inferred)
    # the same sums, in the same order, as over COMPONENTS (so the same floats)
    total_w = sum((w_fit, w_cov, w_rec, w_prox, w_fresh)) or 1.0
    weighted = (
        w_fit * fit,
        w_cov * coverage,
        w_rec * reciprocity,
        w_prox * proximity,
        w_fresh * freshness,
    )
    score = sum(weighted) / total_w
    serves = populations.of_name(org.name, org.sector == Sector.government)
    if populations.unnamed(serves, populations.of_need(need.text)):
        score -= populations.POPULATION_PENALTY  # its name serves people the need names not
    return Scored(position, score, comps, distance_km, covers, gains, shared, offers=dict(offers))


_weights_memo: tuple[dict[str, float], tuple[float, ...]] = ({}, ())


def _component_weights(weights: Mapping[str, float]) -> tuple[float, ...]:
    """The weight of each of COMPONENTS (0 when absent), remembered for the last mapping seen
    (compared by value, so a mapping changed in place is read again)."""
    global _weights_memo
    seen, values = _weights_memo
    if weights != seen or not values:
        values = tuple(weights.get(c, 0.0) for c in COMPONENTS)
        _weights_memo = (dict(weights), values)
    return values


# Words never worth showing as "shared terms": English stop words, our own profile labels and
# words every need and profile use.
_NOT_TERMS = (
    STOP_WORDS
    | _STOP
    | {
        "since",
        "focus",
        "offers",
        "seeks",
        "organisations",
        "organizations",
        "families",
        "work",
        "works",
        "working",
        "want",
        "like",
        "would",
        "could",
        "every",
        "many",
        "year",
        "years",
    }
)


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    """Content words of a text (for "shared terms"); remembered, as the same candidate profiles
    are explained again and again."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _NOT_TERMS)


# Absolute relevance (raw similarity, MiniLM) of the words a card uses. On T4 dev the relevant
# partners of the top-10 lists lie at 0.23-0.39 (5th to 50th percentile), the unrelated at
# 0.21-0.32 (10th to 50th): "closely" only above both medians, "loosely" below most relevant.
CLOSE_RELEVANCE = 0.40
PARTLY_RELEVANCE = 0.25
# A fit at least this high (relative to the other candidates) beside words that say "partly"
# or "loosely": the reason adds that it is among the closest found, so the bar and the words
# do not contradict each other.
BEST_OF_FIELD_FIT = 0.9


def match_strength(s: Scored) -> str:
    """ "closely", "partly" or "loosely": by absolute relevance when known (the fit is relative
    to the other candidates, so the best of a weak field would always look close)."""
    if s.relevance is not None:
        r = s.relevance
        return (
            "closely"
            if r >= CLOSE_RELEVANCE
            else "partly"
            if r >= PARTLY_RELEVANCE
            else ("loosely")
        )
    fit = s.components["fit"]
    return "closely" if fit >= 0.6 else "partly" if fit >= 0.35 else "loosely"


def place_terms(*names: str | None) -> frozenset[str]:
    """Words of place names: never shown as shared terms (a place is location, not topic)."""
    return frozenset(w for n in names if n for w in _WORD.findall(n.lower()))


def shared_terms(need: Need, org_text: str, places: frozenset[str], limit: int = 4) -> list[str]:
    return sorted((_terms(need.text) & _terms(org_text)) - places)[:limit]


def _profile_words(prof: Profile) -> str:
    o = prof.org
    return " ".join([o.name, o.description, *o.focus_areas, *o.offers])


def served_place(regions: list[str], need: Need) -> bool:
    """Whether the need's region is one of `regions` (compared as region filters compare)."""
    from matcher.places.resolve import region_key

    want = region_key(need.region)
    return bool(want) and any(region_key(r) == want for r in regions)


@dataclass(frozen=True)
class Voice:
    """How reasons name what a partner was matched against: a need, by default. A page that
    shows no need says what it matched instead ("matches the need" and "(asked: 'food')" on a
    company's aligned page, which shows its focus, real data walk)."""

    subject: str = "the need"  # "Its profile closely matches the need"
    asked: str = "asked"  # "(asked: 'food insecurity')"
    place: str = "the need's location"  # "Based 5 km from the need's location"
    # the point a distance is measured from within the partner's own city: "Based in Hilo,
    # 2 km from the need's location"; None: "Based in Hilo, 2 km away" (a page searching
    # around "Hilo, HI" read "Based in Hilo, 2 km from Hilo, HI", real data walk)
    point: str | None = "the need's location"
    # who asked: "Shares focus areas with the requester" (on an organisation's own aligned
    # page, the requester is that organisation)
    requester: str = "the requester"
    # "Does not cover: funding" of what was asked that the partner does not offer; not said of
    # a programme, which offers what it names
    lists_missing: bool = True


NEED_VOICE = Voice()
# a public programme among an organisation's opportunities: what it names is what it supports,
# not help it asks for ("Does not cover: funding" of a grant programme, real data walk)
PROGRAMME_VOICE = Voice(
    subject="the programme",
    asked="the programme supports",
    place="the programme's location",
    point="the programme's location",
    requester="the programme's agency",
    lists_missing=False,
)


def focus_voice(name: str, where: str) -> Voice:
    """How reasons speak of a focus placed at an organisation's home (or `where`): "matches the
    focus", not "the need" (real data walk)."""
    return Voice(
        subject="the focus",
        asked="the focus",
        place=where,
        point=None,
        requester=readable_name(name),
    )


def reasons_for(
    s: Scored,
    prof: Profile,
    need: Need,
    required: Mapping[str, str],
    now: datetime | None = None,
    voice: Voice = NEED_VOICE,
) -> list[str]:
    """Readable, true reasons: what of the need it covers (and with what), what it does not,
    the programme it runs, distance, what it gains. A capability is either covered or not:
    the two lists are disjoint by key and name capabilities, never the need's sentences."""
    out: list[str] = []
    org = prof.org
    places = place_terms(need.city, need.region, need.country, org.city, org.region)
    # "shared terms: food, volunteers" read against "Does not cover: volunteers" on the same card
    # (Roadrunner Food Bank, real data walk): a word naming help it is said not to cover is left
    # out of the words shared
    said_missing = [c for c in required if c not in s.covers][:3]
    missing_keys = set(said_missing) if s.covers and voice.lists_missing else set()
    common = [
        t
        for t in shared_terms(need, _profile_words(prof), places, limit=8)
        if not (missing_keys & capabilities.capabilities_in(t))
    ][:4]
    strength = match_strength(s)
    line = f"Its profile {strength} matches {voice.subject}"
    if common:
        line += " (shared terms: " + ", ".join(common) + ")"
    if strength != "closely" and s.components.get("fit", 0.0) >= BEST_OF_FIELD_FIT:
        # the fit bar ranks it against the other candidates; the words say how close it is
        line += ", among the closest found"
    out.append(line + ".")
    if s.programme is not None and s.programme.similarity >= PROGRAMME_REASON_SIMILARITY:
        out.append(f"{RELATED_PROGRAMME}: '{short_phrase(s.programme.title, 12)}'.")
    if s.offering is not None and s.offering[0] >= OFFERING_REASON_SIMILARITY:
        line = short_phrase(s.offering[1], 12)
        out.append(f"Its description's line closest to {voice.subject}: '{line}'.")
    for cap, offer in s.covers.items():
        asked = short_phrase(required.get(cap) or capabilities.label(cap))
        what = capabilities.label(cap)
        if offer:
            said = f"Covers {what} ({voice.asked}: '{asked}')"
            parts = [o for o in offer.split(benefits.TITLES_JOIN) if o.strip()] or [offer]
            quoted = [f"'{short_phrase(o)}'" for o in parts]
            many = len(quoted) > 1
            listed = ", ".join(quoted[:-1]) + " and " + quoted[-1] if many else quoted[0]
            out.append(f"{said} with its offer{'s' if many else ''} {listed}.")
        else:
            out.append(f"Covers {what} ({voice.asked}: '{asked}'): its profile is about this.")
    if said_missing and s.covers and voice.lists_missing:
        out.append("Does not cover: " + ", ".join(map(capabilities.label, said_missing)) + ".")
    level = org.service_level.value if org.service_level else "local"
    # the need's place by name where it has one ("includes Hartford"), as the group wrote it
    place = need.city or need.region or voice.place
    if org.service_regions and (need.region or need.lat is not None):
        # limited to some regions: its reach is these, never "nationwide"
        if served_place(org.service_regions, need):
            out.append(f"Serves {', '.join(org.service_regions)} only: its area includes {place}.")
    elif level in ("national", "international") and (need.region or need.lat is not None):
        out.append(
            f"Works {'nationwide' if level == 'national' else 'internationally'}: "
            f"its area includes {place}."
        )
    elif s.distance_km is not None:
        # the city is the partner's, so it comes first: "Based 15 km from the need's location
        # in Barrington" read as if Barrington were the need's place
        where = f"in {org.city}, " if org.city else ""
        # rounded as the card rounds its distance (to 0.1 km, then shown whole): 9.46 km is
        # "10 km away" on the card, so not "9 km" here
        # and said as the card says it ("less than 1 km", not "0 km": real data walk)
        km = km_said(round(s.distance_km, 1))
        same_city = bool(need.city and org.city and need.city.lower() == org.city.lower())
        if not same_city:
            out.append(f"Based {where}{km} from {need.city or voice.place}.")
        elif voice.point is not None:
            out.append(f"Based {where}{km} from {voice.point}.")
        else:
            out.append(f"Based {where}{km} away.")
    elif need.city and org.city and need.city.lower() == org.city.lower():
        out.append(f"Based in the same city ({org.city}).")
    elif need.region and org.region and need.region.lower() == org.region.lower():
        out.append(f"Based in the same region ({org.region}).")
    for cap, wanted in s.gains.items():
        out.append(f"{GAIN_REASON} {capabilities.label(cap)}: it seeks '{short_phrase(wanted)}'.")
    if s.shared_focus:
        shared = ", ".join(s.shared_focus)
        out.append(f"Shares focus areas with {voice.requester}: {shared}.")
    if not org.offers and s.covers:
        out.append("Its offers were read from its description (it lists none).")
    serves = populations.of_name(org.name, org.sector == Sector.government)
    if populations.unnamed(serves, populations.of_need(need.text)):
        whom = " and ".join(populations.labels(serves))
        out.append(f"Its name says it serves {whom}, whom {voice.subject} does not name.")
    age_days = ((now or utcnow()) - org.updated_at).days
    if age_days > 540:
        out.append(f"Profile last updated {age_days // 30} months ago: check it is current.")
    return out
