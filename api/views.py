"""Domain objects -> response bodies, with contact details stripped for non-owners."""

from __future__ import annotations

import json

from api.schemas import (
    CoalitionPublic,
    MatchPublic,
    NeedPublic,
    OfferCounted,
    OfferedElsewherePublic,
    OrganisationOut,
    OrganisationPrivate,
    OrganisationPublic,
    RecommendationPublic,
)
from api.security import Principal
from api.web.offers_shown import offers_shown
from matcher.domain import Match, Need, OfferedElsewhere, Organisation, Recommendation
from matcher.store.repository import Stored

_PRIVATE_ONLY = {"contact", "published", "owner"}


def organisation_view(
    stored: Stored,
    principal: Principal,
    counted: dict[str, str] | None = None,
    *,
    admin: bool = False,
) -> OrganisationOut:
    """`counted`: `Engine.offers_counted` of it, given when one profile is read; `admin`: the
    signed-in person is one of its admins (sees its contact, as its owner would)."""
    org: Organisation = stored.record
    data = org.model_dump(mode="python")
    data["version"] = stored.version
    if counted is not None:
        shown = offers_shown(org.offers, counted, org.focus_areas, org.description)
        data["offers_counted"] = [
            OfferCounted(capability=o.key, label=o.label, phrase=o.phrase, source=o.source)
            for o in shown.counted
        ]
    if admin or principal.can_see_private(org.owner):
        return OrganisationPrivate.model_validate(data)
    return OrganisationPublic.model_validate(
        {k: v for k, v in data.items() if k not in _PRIVATE_ONLY}
    )


def need_view(stored: Stored) -> NeedPublic:
    need: Need = stored.record
    return NeedPublic.model_validate(need.model_dump(mode="python", exclude={"owner"}))


def match_view(match: Match) -> MatchPublic:
    return MatchPublic.model_validate(match.model_dump(mode="python"))


def _offerers(named: dict[str, OfferedElsewhere]) -> dict[str, OfferedElsewherePublic]:
    """capability -> the organisation a coalition's gap line names, as the API shows it."""
    return {cap: OfferedElsewherePublic(**o.model_dump()) for cap, o in named.items()}


def recommendation_view(
    rec: Recommendation, recommendation_id: str, *, need_id: str | None = None
) -> RecommendationPublic:
    coalition = rec.coalition
    return RecommendationPublic(
        recommendation_id=recommendation_id,
        model_version=rec.model_version,
        index_generation=rec.index_generation,
        need_id=need_id,
        required_capabilities=list(rec.required_capabilities),
        results=[match_view(m) for m in rec.results],
        by_sector={s: [match_view(m) for m in ms] for s, ms in rec.by_sector.items()},
        coalition=CoalitionPublic(
            members=[match_view(m) for m in coalition.members],
            roles=dict(coalition.roles),
            covered={k: list(v) for k, v in coalition.covered.items()},
            gaps=list(coalition.gaps),
            coverage=coalition.coverage,
            benefits_asked=list(coalition.benefits_asked),
            uncovered_benefits=list(coalition.uncovered_benefits),
            benefits_elsewhere=_offerers(coalition.benefits_elsewhere),
            unfilled_roles=list(coalition.unfilled_roles),
            empty_roles=list(coalition.empty_roles),
            absent_in_region=list(coalition.absent_in_region),
            unsized_roles=list(coalition.unsized_roles),
            joins_for=dict(coalition.joins_for),
            alternative_to=dict(coalition.alternative_to),
            offered_elsewhere=_offerers(coalition.offered_elsewhere),
            offered_nearer=_offerers(coalition.offered_nearer),
        ),
        gaps=list(rec.gaps),
        unread_words=list(rec.unread_words),
        few_words=rec.few_words,
        unread_help=list(rec.unread_help),
        withheld=list(rec.withheld),
        named_askers=list(rec.named_askers),
        asker_peers=list(rec.asker_peers),
    )


def recommendation_json(
    rec: Recommendation, recommendation_id: str, *, need_id: str | None = None
) -> bytes:
    """The `RecommendationPublic` body of `rec`, serialised once from the already validated
    domain objects (no public models built, nothing validated again).

    The public schema mirrors the domain one field for field (Match/MatchPublic,
    Coalition/CoalitionPublic; tests/api/test_api_fastpath.py keeps them in step), so the
    domain dump with its `need` left out plus the two ids is the public body."""
    ids = json.dumps(
        {"recommendation_id": recommendation_id, "need_id": need_id}, separators=(",", ":")
    )
    body = rec.model_dump_json(exclude={"need"})
    return f"{ids[:-1]},{body[1:]}".encode()
