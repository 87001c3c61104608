"""Introductions with consent: a member of one organisation asks another organisation for an
introduction about a need; the partner's members accept or decline. Contact details are shown
only after acceptance, and a message thread opens between the two organisations. Every state
change is an audit event; new requests, acceptances and messages are notified through the
outbox in the transaction that makes them."""

from matcher.introductions.model import (
    OPEN,
    STATUSES,
    Contact,
    Event,
    Introduction,
    IntroductionView,
    ThreadMessage,
)
from matcher.introductions.service import Introductions, IntroductionSettings
from matcher.introductions.text import clean_text

__all__ = [
    "OPEN",
    "STATUSES",
    "Contact",
    "Event",
    "Introduction",
    "IntroductionSettings",
    "IntroductionView",
    "Introductions",
    "ThreadMessage",
    "clean_text",
]
