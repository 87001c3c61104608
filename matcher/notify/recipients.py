"""Messages POSTed to their own recipient: a saved need's `notify_to` that is a webhook URL.

The request is the operator webhook's (matcher.notify.webhook: the same JSON body,
`Idempotency-Key`, `X-Matcher-Timestamp`, `X-Matcher-Signature`), signed with the secret of the
recipient's own (`SigningSecrets`: a saved need's, matcher.alerts.signing), never with the
operator's MATCHER_NOTIFY_WEBHOOK_SECRET. It goes through the host guard (GuardedTransport: an
internal host is refused on the address connected to, a permanent failure), with the notify
timeout and no redirects followed (a 3xx is not delivery).

Failures are this one receiver's, not the service's: a receiver that is down, slow or answers
5xx (or 408/425/429) is retried with the outbox's backoff and set aside as dead after
NOTIFY_MAX_ATTEMPTS tries, without stopping the run for the other messages (as the operator's
notifier being down does); another 4xx is permanent at once. Logs and errors name the URL's
scheme, host and port only: a webhook URL's path is often its credential (Slack, Discord)."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from matcher.errors import DeliveryError, ValidationError
from matcher.notify.base import Message
from matcher.notify.hosts import HostPolicy, guarded_client
from matcher.notify.webhook import payload_of, rejected, signed_headers

logger = logging.getLogger(__name__)


class SigningSecrets(Protocol):
    """The secret that signs a message to its recipient URL; DeliveryError(permanent=True)
    when it has none (not a saved need's alert, the saved need deleted, ...)."""

    def secret_for(self, message: Message) -> str: ...


def where_of(url: str) -> str:
    """`webhook https://host:port/...`: the URL without its path, query or credentials."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return "webhook (an invalid URL)"
    port = f":{parsed.port}" if parsed.port is not None else ""
    host = f"[{host}]" if ":" in host else host
    return f"webhook {parsed.scheme}://{host}{port}/..."


class RecipientWebhooks:
    kind = "recipient-webhook"

    def __init__(
        self,
        secrets: SigningSecrets | None,
        *,
        timeout: float = 10.0,
        hosts: HostPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        """`secrets` None: nothing can be signed, every message is refused (permanent)."""
        self.secrets = secrets
        self.hosts = hosts or HostPolicy()
        self._client = guarded_client(self.hosts, timeout=timeout, transport=transport)

    def send(self, message: Message) -> None:
        url = message.recipient.strip()
        where = where_of(url)
        if self.secrets is None:
            raise DeliveryError(
                f"{where}: no signing secrets known to this notifier (create_notifier was not"
                " given the database)",
                permanent=True,
            )
        secret = self.secrets.secret_for(message)
        body = payload_of(message)
        try:
            response = self._client.post(
                url, content=body, headers=signed_headers(secret, message, body)
            )
        except ValidationError as exc:  # BlockedHostError: an internal host
            logger.warning("%s: refused to send %r: %s", where, message.key, exc)
            raise DeliveryError(f"{where}: refused: {exc}", permanent=True) from exc
        except httpx.HTTPError as exc:  # this receiver is down or slow: retried with backoff
            raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        code = response.status_code
        raise DeliveryError(
            f"{where} answered {code}: {response.text[:200]}", permanent=rejected(code)
        )

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return "RecipientWebhooks()"
