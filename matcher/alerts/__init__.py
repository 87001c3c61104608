"""Saved needs and alerts: a group saves a need; when a new or changed organisation would enter
its top results, it gets an alert (inbox and notification outbox), at most once a day."""

from matcher.alerts.store import Alert, SavedNeed, SavedNeeds, TopEntry
from matcher.alerts.worker import AlertReport, AlertWorker, top_of
from matcher.alerts.writes import notification_key

__all__ = [
    "Alert",
    "AlertReport",
    "AlertWorker",
    "SavedNeed",
    "SavedNeeds",
    "TopEntry",
    "notification_key",
    "top_of",
]
