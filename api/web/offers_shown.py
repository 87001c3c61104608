"""An organisation's offers as its page shows them: the ones matching counts, beside the ones it
lists that matching does not count.

The page listed the stored offers as written, while a result's card covers only what the engine
counts (`matcher.offers.partner_offers`: a bare capability label an importer read from a mission
counts only when the profile is about it by meaning). So Missoula's food bank listed
"volunteers" on its page, and its card said "Does not cover: volunteers" (real IRS data)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from matcher import capabilities


@dataclass(frozen=True)
class OfferShown:
    label: str  # the capability as cards name it
    phrase: str  # what it rests on: a listed offer or a quote of its description; "" by meaning
    # where the phrase comes from: "listed" (its offers), "description" (quoted from it),
    # "field" (one of its focus areas, e.g. an industry), "meaning" (no phrase: its profile is
    # about it, or a listed label confirmed so), "" (not known: no phrase shown)
    source: str = ""
    key: str = ""  # the capability's key ("" when not known)


@dataclass(frozen=True)
class OffersShown:
    counted: list[OfferShown] = field(default_factory=list)
    # listed bare capability labels matching does not count (its description is not about them)
    not_counted: list[str] = field(default_factory=list)
    # listed offers naming no capability: read only as words of the profile, shown as written
    other: list[str] = field(default_factory=list)
    known: bool = True  # False: not indexed yet, so `counted` holds the list as written

    @property
    def lines(self) -> list[OfferShown]:
        """`counted` as the page lists them: one line a phrase, naming each capability it
        counts for ("funding, public programmes and benefits: 'public programme funding'";
        an agency's page had listed that phrase twice, once a capability: real data walk)."""
        out: list[OfferShown] = []
        at: dict[tuple[str, str], int] = {}
        for offer in self.counted:
            same = (offer.phrase, offer.source)
            if offer.phrase and same in at:
                first = out[at[same]]
                out[at[same]] = replace(first, label=f"{first.label}, {offer.label}")
                continue
            at[same] = len(out)
            out.append(offer)
        return out


def _source(phrase: str, listed: list[str], fields: list[str], flat_description: str) -> str:
    """Where a counted offer's phrase comes from. Quotation marks around a category field
    ("lodging") or the organisation's name read as if its description said them (real data
    walk): only a quote of the description or of its own listed offers is quoted.
    `flat_description`: lower-cased, its runs of white space made one space."""
    if phrase in listed:
        return "listed"
    if phrase.lower() in (f.lower() for f in fields):
        return "field"
    core = phrase.removeprefix("...").removesuffix("...").strip(" .").lower()
    if core and core in flat_description:
        return "description"
    return ""


def offers_shown(
    listed: list[str],
    counted: dict[str, str] | None,
    fields: list[str] | None = None,
    description: str = "",
) -> OffersShown:
    """`listed`: the stored offers; `counted`: `Engine.offers_counted` (None: not indexed);
    `fields`: its focus areas; `description`: its description."""
    if counted is None:
        return OffersShown([OfferShown(o, "") for o in listed], [], known=False)
    shown = []
    flat = " ".join(description.lower().split())
    for key, phrase in counted.items():
        label = capabilities.label(key)
        text = phrase.strip()
        if text.lower() == label.lower():
            text = ""
        where = _source(text, listed, fields or [], flat) if text else "meaning"
        shown.append(OfferShown(label, text if where not in ("", "meaning") else "", where, key))
    unread, other = [], []
    for item in listed:
        keys = capabilities.capabilities_in(item)
        if not keys:
            other.append(item)
        elif not keys & counted.keys():
            unread.append(item)
    return OffersShown(shown, unread, other)
