"""Whom a signed-in person searches for on the page: one of their groups, or no group.

The group chosen is the need's requester, as `requester_id` is for POST /v1/recommendations:
it is left out of its own results (a walk on real data found an organiser's new group first
in her own coalition, "0 km away", and its introduction link asking itself), and the cards say
what partners would gain from what it offers (the default weights do not rank by it). A
person's other groups may still be shown; their cards say "Your group" instead of offering
marks or an introduction (`own_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from matcher.accounts.claims import Claims, Membership
from matcher.accounts.people import Person
from matcher.errors import ValidationError

# the form's value for "search for no group of mine" (an organisation id is never "-")
NO_GROUP = "-"


async def memberships_of(claims: Claims | None, person: Person | None) -> list[Membership]:
    """The signed-in person's groups, oldest first; none for anyone not signed in (or while
    the service is starting)."""
    if person is None or claims is None:
        return []
    return await anyio.to_thread.run_sync(claims.memberships, person.id)


def shown_choice(memberships: Sequence[Membership], wanted: str | None) -> str:
    """The group the form shows as chosen: the one asked for when it is the person's, "" for
    no group, else their first group (a permalink opened by someone else, or a new form)."""
    ids = [m.organisation_id for m in memberships]
    if wanted == NO_GROUP:
        return ""
    if wanted in ids:
        return str(wanted)
    return ids[0] if ids else ""


def requester_of(memberships: Sequence[Membership], wanted: str | None) -> str | None:
    """The requester of a search sent from the form: the group chosen, their first group when
    the form sent no choice, None for no group. A group that is not theirs is refused (a
    tampered form, or a membership ended since the page was drawn)."""
    if wanted and wanted != NO_GROUP and wanted not in {m.organisation_id for m in memberships}:
        raise ValidationError(
            "you are not a member of that organisation; choose one of your groups",
            field="as_org",
        )
    return shown_choice(memberships, wanted) or None


def own_ids(memberships: Sequence[Membership]) -> list[str]:
    return [m.organisation_id for m in memberships]
