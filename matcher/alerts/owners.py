"""Who owns a saved need, and where a person's alerts go.

A saved need is owned by the API key that saved it (its key id, `key_...`) or by a signed-in
person: `person:<person id>`. Key ids never hold a colon, so the two cannot collide, and no key
(`Principal.owns`) ever owns a person's saved need: the JSON API does not show them.

A person's alerts go to a webhook URL they typed, else to their own e-mail address, but only
once it is confirmed, as the accounts code trusts an address (claims by e-mail domain wait for
the confirmation too): anyone can sign up with any address, and daily alerts are not mail its
holder asked for. For the same reason a person cannot type someone else's e-mail address
(`person_address`); an API key still can (its holder is known to the service's admins). The
needs a person saved before confirming get the address when they confirm (`address_on_confirm`,
an `Accounts.on_verified` hook).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from matcher.alerts.store import SavedNeeds
from matcher.errors import ValidationError
from matcher.store.db import Database

if TYPE_CHECKING:
    from matcher.accounts import Person

PERSON_PREFIX = "person:"
OWNER_MAX = 128  # SavedNeedRow.owner


def person_owner(person_id: str) -> str:
    owner = f"{PERSON_PREFIX}{person_id}"
    if not person_id or len(owner) > OWNER_MAX:
        raise ValidationError(f"is not a person id (1 to {OWNER_MAX - len(PERSON_PREFIX)} chars)")
    return owner


def default_address(person: Person) -> str | None:
    """Where a person's alerts go when they give no address: their confirmed e-mail."""
    return person.email if person.email_verified else None


def person_address(person: Person, typed: str | None) -> str | None:
    """Where a person's alerts go, from what they typed in the alert-address field (already
    checked to be an e-mail address or an http(s) URL): a webhook URL as typed; nothing, or
    their own e-mail address (in any case), gives their e-mail once confirmed (None until then,
    `address_on_confirm` fills it). Any other e-mail address is refused (ValidationError)."""
    typed = (typed or "").strip()
    if not typed or typed.casefold() == person.email.casefold():
        return default_address(person)
    if typed.lower().startswith(("http://", "https://")):
        return typed
    raise ValidationError(
        f"alerts from your account can go only to your own e-mail address ({person.email}) or"
        " to a webhook URL: leave the field empty to use your address once it is confirmed,"
        " or save the need with an API key to send alerts to another address"
    )


def address_on_confirm(db: Database) -> Callable[[Person], None]:
    """A hook for `Accounts.on_verified`: the person's saved needs without an alert address
    get their newly confirmed e-mail."""
    saved = SavedNeeds(db)

    def hook(person: Person) -> None:
        if person.email_verified:
            saved.fill_address(person_owner(person.id), person.email)

    return hook
