"""Notifications that work offline: a Notifier protocol with SMTP and webhook backends, a
durable outbox table and a dispatcher that retries with backoff and never sends twice."""

from matcher.notify.base import Message, Notifier
from matcher.notify.dispatcher import Dispatcher, DispatchReport, RetryPolicy
from matcher.notify.factory import create_notifier
from matcher.notify.outbox import Outbox, Queued

__all__ = [
    "DispatchReport",
    "Dispatcher",
    "Message",
    "Notifier",
    "Outbox",
    "Queued",
    "RetryPolicy",
    "create_notifier",
]
