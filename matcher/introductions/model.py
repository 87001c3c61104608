"""What callers see of introductions: the request, a viewer's view of it (with contact details
only once accepted), thread messages and audit events. The state machine lives here too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

STATUSES = ("requested", "accepted", "declined", "withdrawn", "expired")
OPEN = "requested"
# status -> the statuses it may move to, and who moves it ("to": the asked organisation's
# members, "from": the asking organisation's members, "system": expiry)
TRANSITIONS: dict[str, dict[str, str]] = {
    "requested": {"accepted": "to", "declined": "to", "withdrawn": "from", "expired": "system"},
    "accepted": {},
    "declined": {},
    "withdrawn": {},
    "expired": {},
}
Side = Literal["outgoing", "incoming"]


@dataclass(frozen=True)
class Introduction:
    id: str
    from_org: str
    from_org_name: str
    to_org: str
    to_org_name: str
    status: str
    message: str
    need_text: str
    need_id: str | None
    recommendation_id: str | None
    created_at: datetime
    expires_at: datetime | None
    decided_at: datetime | None


@dataclass(frozen=True)
class Contact:
    """The other side's contact details, shown only after acceptance."""

    organisation_id: str
    organisation_name: str
    contact: str | None
    website: str | None
    person_name: str | None
    person_email: str | None


@dataclass(frozen=True)
class IntroductionView:
    """An introduction as one member of one side sees it."""

    introduction: Introduction
    side: Side
    my_org: str
    other_org: str
    other_org_name: str
    contact: Contact | None = None  # None until accepted
    requested_by_me: bool = False
    can_accept: bool = False  # also: can decline
    can_withdraw: bool = False
    can_message: bool = False
    actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadMessage:
    id: str
    introduction_id: str
    author_org: str
    author_org_name: str
    author_name: str
    mine: bool
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Event:
    """One state change. `actor_id`/`actor_name` are given only to the actor's own
    organisation: the other side sees which organisation acted, never which member."""

    introduction_id: str
    kind: str
    from_status: str | None
    to_status: str
    actor_org: str | None
    actor_id: str | None
    actor_name: str | None
    created_at: datetime
