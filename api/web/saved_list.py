"""A signed-in person's saved needs as the account page lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from api.web.distance import km
from matcher.accounts import Person
from matcher.alerts.owners import person_owner
from matcher.alerts.store import SavedNeed, SavedNeeds
from matcher.domain import Need
from matcher.notify.base import is_webhook_url, shown_address
from matcher.store.db import Database

SHOWN = 100  # the account page lists this many (newest first) and says how many more
WORDS = 12


@dataclass(frozen=True)
class SavedItem:
    id: str
    title: str
    place: str | None
    notify_to: str | None  # a webhook URL masked (matcher.notify.base.mask_webhook)
    created_at: datetime
    last_alerted_at: datetime | None
    results_url: str | None
    webhook: bool = False  # alerts POSTed to a URL: signed, its secret can be replaced


def first_words(text: str, n: int = WORDS) -> str:
    words = text.split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def place_of(need: Need) -> str | None:
    """The need's place as the account page lists it, with its distance when it has one
    ("within 50 km of Bennington, VT")."""
    if need.place:
        place: str | None = need.place
    else:
        place = ", ".join(p for p in (need.city, need.region, need.country) if p) or None
    if place and need.radius_km and need.lat is not None:
        return f"within {km(need.radius_km)} km of {place}"
    return place


def item(saved: SavedNeed) -> SavedItem:
    need = saved.need
    rec = saved.recommendation_id
    return SavedItem(
        id=saved.id,
        title=need.title or first_words(need.text),
        place=place_of(need),
        notify_to=shown_address(saved.notify_to),
        created_at=saved.created_at,
        last_alerted_at=saved.last_alerted_at,
        results_url=f"/r/{quote(rec)}" if rec else None,
        webhook=is_webhook_url(saved.notify_to),
    )


def person_saved_needs(db: Database, person: Person) -> tuple[list[SavedItem], int]:
    """(the person's newest saved needs, how many they have)."""
    store = SavedNeeds(db)
    owner = person_owner(person.id)
    _, total = store.owned(owner, limit=0)
    items, _ = store.owned(owner, offset=max(0, total - SHOWN), limit=SHOWN)
    return [item(s) for s in reversed(items)], total
