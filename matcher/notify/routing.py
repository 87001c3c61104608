"""Delivery by recipient: the one notifier the dispatcher is given (made by create_notifier).

A message whose recipient is an http(s) URL (a saved need's webhook) is POSTed to that URL,
signed with the saved need's own secret (matcher.notify.recipients). Any other recipient (an
e-mail address) goes to the notifier MATCHER_NOTIFY_URL configures: the SMTP server, or, when
that is a webhook, the operator's receiver, which relays e-mail as before."""

from __future__ import annotations

from matcher.notify.base import Message, Notifier, is_webhook_url
from matcher.notify.recipients import RecipientWebhooks


class RoutingNotifier:
    def __init__(self, configured: Notifier, webhooks: RecipientWebhooks):
        self.configured = configured
        self.webhooks = webhooks

    @property
    def kind(self) -> str:
        return self.configured.kind

    def route(self, message: Message) -> Notifier:
        return self.webhooks if is_webhook_url(message.recipient) else self.configured

    def send(self, message: Message) -> None:
        self.route(message).send(message)

    def close(self) -> None:
        try:
            self.webhooks.close()
        finally:
            self.configured.close()

    def __repr__(self) -> str:
        return f"RoutingNotifier({self.configured!r}, {self.webhooks!r})"
