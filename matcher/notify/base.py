"""The Notifier contract every backend satisfies (tests/notify/test_notifier_contract.py)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from matcher.errors import ValidationError

MAX_KEY = 200
MAX_RECIPIENT = 320
MAX_SUBJECT = 300
MAX_BODY = 100_000

# control characters other than tab and newline (and the newline itself in one-line fields)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")


@dataclass(frozen=True)
class Message:
    """One plain-text notification. `key` identifies the event that caused it: the outbox
    queues one message per key and backends pass it on (Message-ID, Idempotency-Key) so a
    receiver can drop a duplicate."""

    recipient: str
    subject: str
    body: str
    key: str

    def __post_init__(self) -> None:
        for name, value, limit in (
            ("key", self.key, MAX_KEY),
            ("recipient", self.recipient, MAX_RECIPIENT),
            ("subject", self.subject, MAX_SUBJECT),
        ):
            if not value or not value.strip():
                raise ValidationError("must not be empty", field=name)
            if len(value) > limit:
                raise ValidationError(f"is {len(value)} characters, over {limit}", field=name)
            if _LINE_BREAK.search(value) or _CONTROL.search(value):
                raise ValidationError("must be one line without control characters", field=name)
        if len(self.body) > MAX_BODY:
            raise ValidationError(f"is {len(self.body)} characters, over {MAX_BODY}", field="body")
        if _CONTROL.search(self.body.replace("\r\n", "\n")):
            raise ValidationError("must be plain text without control characters", field="body")

    def key_digest(self) -> str:
        """A header-safe, fixed-length form of the key (SHA-256, hex)."""
        return hashlib.sha256(self.key.encode()).hexdigest()


@runtime_checkable
class Notifier(Protocol):
    """Delivers one message or raises matcher.errors.DeliveryError. Never retries by itself:
    retries, backoff and at-most-once bookkeeping belong to the outbox's dispatcher."""

    @property
    def kind(self) -> str: ...

    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


def is_webhook_url(recipient: str | None) -> bool:
    """A recipient (a saved need's `notify_to`) that is an http(s) URL, not an e-mail address:
    its messages are POSTed to it (matcher.notify.routing)."""
    return bool(recipient) and str(recipient).strip().lower().startswith(("http://", "https://"))


MASK = "\u2026"  # what stands for a webhook URL's path and query where it is listed
_TAIL = 4  # the last characters of a masked path shown, to tell two URLs of a host apart
_TAIL_FROM = 16  # shown only when at least this much is masked (most of it stays hidden)


def mask_webhook(url: str) -> str:
    """A webhook URL as listed (the API's GET, the account page, `matcher notify queue`):
    `scheme://host[:port]/…` and, when the path and query are long, their last 4 characters
    (`https://hooks.slack.com/…a1B2`): enough for the owner to recognise it, not the token a
    Slack or Zapier URL carries in its path or query. Credentials are dropped. Only the
    response that creates a saved need (its owner just typed it) shows it whole."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return f"(a URL){MASK}"
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = host if port is None else f"{host}:{port}"
    hidden = (parts.path + (f"?{parts.query}" if parts.query else "")).rstrip("/")
    tail = hidden[-_TAIL:] if len(hidden) >= _TAIL_FROM else ""
    return f"{parts.scheme.lower()}://{netloc}/{MASK}{tail}"


def shown_address(address: str | None) -> str | None:
    """An alert address as listed: a webhook URL masked (mask_webhook), an e-mail address as
    it is (the owner's own, and no credential)."""
    if address is None or not is_webhook_url(address):
        return address
    return mask_webhook(address)


def redact(url: str) -> str:
    """The URL with any password replaced by ***, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
