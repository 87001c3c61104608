"""Notifications POSTed as JSON to a webhook URL, signed with HMAC-SHA256.

Headers: `Idempotency-Key` (the event's key: a receiver drops a repeat), `X-Matcher-Timestamp`
(Unix seconds) and `X-Matcher-Signature: sha256=<hex>` over `<timestamp>.<raw body>` with the
shared secret; `verify_signature` is the receiver's check. Any 2xx response is delivery.

This is the operator's receiver (MATCHER_NOTIFY_URL); a saved need's own webhook URL is POSTed
to directly, with the same body and headers signed with its own secret (create_notifier routes
by recipient: matcher.notify.routing, matcher.notify.recipients).

Only public hosts are reached unless the `HostPolicy` allows more (matcher.notify.hosts): the
URL is checked on the address actually connected to, and a message whose recipient is a
webhook URL (passed to this notifier directly, not through create_notifier's routing) is
checked too. A refused host is a permanent delivery failure (the message is set aside as dead,
with why), logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import httpx

from matcher.errors import DeliveryError, ValidationError
from matcher.notify.base import Message, redact
from matcher.notify.hosts import HostPolicy, check_url, guarded_client

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Matcher-Signature"
TIMESTAMP_HEADER = "X-Matcher-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    signature: str,
    timestamp: str,
    *,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """True when `signature` signs `timestamp.body` with `secret` and the timestamp is recent
    (so a captured request cannot be replayed later)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_seconds and hmac.compare_digest(
        sign(secret, timestamp, body), signature
    )


def payload_of(message: Message) -> bytes:
    """The JSON body every webhook POST carries: {"key", "recipient", "subject", "body"}."""
    return json.dumps(
        {
            "key": message.key,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def signed_headers(secret: str, message: Message, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "Idempotency-Key": message.key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def rejected(code: int) -> bool:
    """A 4xx the receiver will answer this message again: set aside at once (408 Request
    Timeout, 425 Too Early and 429 Too Many Requests may pass later)."""
    return 400 <= code < 500 and code not in (408, 425, 429)


class WebhookNotifier:
    kind = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        hosts: HostPolicy | None = None,
    ):
        """`transport` (tests) replaces the guarded one: the recipient check still applies."""
        if not url.lower().startswith(("http://", "https://")):
            raise ValidationError(f"{redact(url)}: a webhook URL is http:// or https://")
        if not secret:
            raise ValidationError(
                "a webhook needs a signing secret (MATCHER_NOTIFY_WEBHOOK_SECRET)",
                field="notify_webhook_secret",
            )
        self.url = url
        self._secret = secret
        self.hosts = hosts or HostPolicy()
        self._client = guarded_client(self.hosts, timeout=timeout, transport=transport)

    def payload(self, message: Message) -> bytes:
        return payload_of(message)

    def send(self, message: Message) -> None:
        body = self.payload(message)
        headers = signed_headers(self._secret, message, body)
        where = f"webhook {redact(self.url)}"
        try:
            if message.recipient.lower().startswith(("http://", "https://")):
                check_url(message.recipient, self.hosts, field="recipient", reveal=True)
            response = self._client.post(self.url, content=body, headers=headers)
        except ValidationError as exc:  # BlockedHostError, or a recipient URL that is not one
            logger.warning("%s: refused to send %r: %s", where, message.key, exc)
            raise DeliveryError(f"{where}: refused: {exc}", permanent=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}", transport=True) from exc
        if not response.is_success:
            # 5xx and 429 say the receiver is unwell: stop this run; other codes are per message
            code = response.status_code
            raise DeliveryError(
                f"{where} answered {code}: {response.text[:200]}",
                transport=code >= 500 or code == 429,
                permanent=rejected(code),
            )

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"WebhookNotifier({redact(self.url)})"
