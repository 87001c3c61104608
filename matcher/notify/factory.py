"""Build the configured Notifier from Settings (None when no notifier URL is set)."""

from __future__ import annotations

from urllib.parse import urlsplit

from matcher.errors import ValidationError
from matcher.notify.base import Notifier, redact
from matcher.notify.hosts import HostPolicy, check_url
from matcher.notify.smtp import DEFAULT_PORTS, SmtpNotifier
from matcher.notify.webhook import WebhookNotifier
from matcher.settings import Settings

SCHEMES = sorted([*DEFAULT_PORTS, "http", "https"])


def create_notifier(settings: Settings) -> Notifier | None:
    """smtp://, smtps://, smtp+starttls:// give SmtpNotifier; http(s):// WebhookNotifier.
    None without a URL: notifications then wait in the outbox until one is configured."""
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
