"""Build the configured Notifier from Settings (None when no notifier URL is set)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from matcher.errors import ValidationError
from matcher.notify.base import Notifier, redact
from matcher.notify.hosts import HostPolicy, check_url
from matcher.notify.recipients import RecipientWebhooks
from matcher.notify.routing import RoutingNotifier
from matcher.notify.smtp import DEFAULT_PORTS, SmtpNotifier
from matcher.notify.webhook import WebhookNotifier
from matcher.settings import Settings

if TYPE_CHECKING:
    from matcher.store import Database

SCHEMES = sorted([*DEFAULT_PORTS, "http", "https"])


def create_notifier(settings: Settings, db: Database | None = None) -> Notifier | None:
    """A RoutingNotifier: a message to an http(s) URL (a saved need's webhook) is POSTed there,
    signed with the saved need's secret read from `db` (without `db` such messages are refused);
    any other goes to the configured notifier: smtp://, smtps://, smtp+starttls:// an
    SmtpNotifier, http(s):// a WebhookNotifier (the operator's receiver). None without a URL:
    notifications then wait in the outbox until one is configured."""
    configured = _configured(settings)
    if configured is None:
        return None
    secrets = None
    if db is not None:
        from matcher.alerts.signing import SavedNeedSecrets  # alerts imports notify: not above

        secrets = SavedNeedSecrets(db)
    webhooks = RecipientWebhooks(
        secrets, timeout=settings.notify_timeout_seconds, hosts=HostPolicy.from_settings(settings)
    )
    return RoutingNotifier(configured, webhooks)


def _configured(settings: Settings) -> Notifier | None:
    url = (settings.notify_url or "").strip()
    if not url:
        return None
    scheme = urlsplit(url).scheme.lower()
    if scheme in DEFAULT_PORTS:
        return SmtpNotifier.from_url(
            url, sender=settings.notify_from, timeout=settings.notify_timeout_seconds
        )
    if scheme in ("http", "https"):
        secret = settings.notify_webhook_secret
        hosts = HostPolicy.from_settings(settings)
        # an internal receiver not allowed: said now, not by every message going dead
        check_url(url, hosts, field="notify_url", reveal=True)
        return WebhookNotifier(
            url,
            secret.get_secret_value() if secret is not None else "",
            timeout=settings.notify_timeout_seconds,
            hosts=hosts,
        )
    raise ValidationError(
        f"{redact(url)}: unknown notifier scheme {scheme!r}; use one of {SCHEMES}",
        field="notify_url",
    )
