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
