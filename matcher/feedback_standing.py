"""Which outcome marks teach the ranking: one rule for training (`training.history`, which
marks become labels) and for the page (`api/routes/web.py`, what the person who marked is
told), so the two cannot drift apart.

A mark counts when it comes with an API key, or from a signed-in person whose e-mail is
confirmed. Anyone can sign up with any address, so an unconfirmed person's marks are kept but
wait for the confirmation; a visitor's (neither key nor person) are kept and never count.
"""

from __future__ import annotations

COUNTED = "counted"
ANONYMOUS = "anonymous"
UNCONFIRMED = "unconfirmed"
# how training reports the marks it skips
SKIP_REASONS = {
    ANONYMOUS: "anonymous feedback",
    UNCONFIRMED: "feedback of people with unconfirmed e-mail",
}


def standing(api_key_id: str | None, person_id: str | None, person_confirmed: bool | None) -> str:
    """COUNTED, UNCONFIRMED or ANONYMOUS for a mark given with this key and by this person."""
    if api_key_id is not None:
        return COUNTED
    if person_id is None:
        return ANONYMOUS
    return COUNTED if person_confirmed else UNCONFIRMED
