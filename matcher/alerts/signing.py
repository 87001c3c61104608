"""Each saved need's own webhook signing secret.

A need saved with a webhook URL as `notify_to` gets a secret (`new_secret`), shown to its owner
once (the create response, the page after saving) and kept in `saved_needs.webhook_secret`: the
alerts POSTed to its URL are signed with it (X-Matcher-Signature, as the operator's webhook;
matcher.notify.webhook.verify_signature checks it), so its receiver can tell them from anyone
else's POST. It is never logged and never shown again; its owner can replace it
(`SavedNeeds.rotate_secret`: a new one, shown once, the old one no longer signs).

A URL saved before secrets existed has none: one is made on its first send (`secret_for`, once
even with several dispatchers) so every POST is signed, and its owner gets a secret they can
check with by replacing it (POST /v1/saved-needs/{id}/webhook-secret, or "New signing secret"
on the account page)."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import select, update

from matcher.errors import DeliveryError, StorageError
from matcher.notify.base import Message
from matcher.notify.recipients import where_of
from matcher.store.db import Database
from matcher.store.models import SavedNeedRow

logger = logging.getLogger(__name__)

PREFIX = "whsec_"
KEY_PREFIX = "saved-need:"  # matcher.alerts.writes.notification_key


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def saved_need_of(key: str) -> str | None:
    """The saved need an alert's notification key (`saved-need:<id>:<day>`) is about."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key.split(":")
    return parts[1] if len(parts) == 3 and parts[1] else None


class SavedNeedSecrets:
    """matcher.notify.recipients.SigningSecrets from the saved needs' table."""

    def __init__(self, db: Database):
        self.db = db

    def secret_for(self, message: Message) -> str:
        """The saved need's secret; DeliveryError(permanent) when the message is no saved
        need's alert to the URL it alerts, DeliveryError(transport) when the database cannot
        be read (the service's trouble, not the receiver's: the message waits, never dead)."""
        try:
            return self._secret_for(message)
        except StorageError as exc:
            raise DeliveryError(f"signing secrets: {exc}", transport=True) from exc

    def _secret_for(self, message: Message) -> str:
        where = where_of(message.recipient)
        saved_id = saved_need_of(message.key)
        if saved_id is None:
            raise DeliveryError(
                f"{where}: refused: only a saved need's alerts are POSTed to a URL of their own"
                f" (signed with its secret); {message.key!r} is not one",
                permanent=True,
            )
        with self.db.session() as s:
            row = s.execute(
                select(SavedNeedRow.notify_to, SavedNeedRow.webhook_secret).where(
                    SavedNeedRow.id == saved_id
                )
            ).one_or_none()
        if row is None:
            raise DeliveryError(
                f"{where}: refused: saved need {saved_id!r} was deleted", permanent=True
            )
        notify_to, secret = row
        if (notify_to or "").strip() != message.recipient.strip():
            raise DeliveryError(
                f"{where}: refused: saved need {saved_id!r} no longer alerts this address",
                permanent=True,
            )
        return secret or self._first_secret(saved_id)

    def _first_secret(self, saved_id: str) -> str:
        """A secret for a URL saved before secrets: the first dispatcher's, kept (a
        compare-and-set, so two dispatchers sign with the same one)."""
        with self.db.session() as s:
            s.execute(
                update(SavedNeedRow)
                .where(SavedNeedRow.id == saved_id, SavedNeedRow.webhook_secret.is_(None))
                .values(webhook_secret=new_secret())
            )
        with self.db.session() as s:
            secret = s.scalar(
                select(SavedNeedRow.webhook_secret).where(SavedNeedRow.id == saved_id)
            )
        if not secret:
            raise DeliveryError(f"saved need {saved_id!r} was deleted", permanent=True)
        logger.info(
            "saved need %s was saved before signing secrets: one was made for its webhook;"
            " its owner sees it by replacing it (POST /v1/saved-needs/%s/webhook-secret or the"
            " account page)",
            saved_id,
            saved_id,
        )
        return str(secret)
