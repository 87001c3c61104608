"""The e-mails of introductions, queued in the outbox in the transaction of their event: one
per member of the other side (never the person who acted), keyed by event and recipient, so
each is queued once and sent once. No contact detail is in a request's e-mail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.introductions.text import one_line
from matcher.notify.base import Message
from matcher.notify.outbox import Outbox
from matcher.store.models import MembershipRow, PersonRow

CONSENT_NOTE = (
    "Contact details are shared only if the request is accepted; declining needs no reason "
    "and the other organisation is not told who declined."
)


def notify_members(
    s: Session,
    outbox: Outbox,
    *,
    organisation_id: str,
    except_person: str | None,
    key: str,
    subject: str,
    body: str,
) -> int:
    """Queue one message per member of `organisation_id` (key `<key>:<person id>`)."""
    q = (
        select(PersonRow.id, PersonRow.email)
        .join(MembershipRow, MembershipRow.person_id == PersonRow.id)
        .where(MembershipRow.organisation_id == organisation_id)
        .order_by(MembershipRow.pk)
    )
    n = 0
    for person_id, email in s.execute(q):
        if person_id == except_person:
            continue
        outbox.add(s, Message(email, one_line(subject, 200), body, f"{key}:{person_id}"))
        n += 1
    return n


def request_body(from_name: str, to_name: str, need: str, message: str, link: str) -> str:
    need_part = f"The need:\n{need}\n\n" if need else ""
    return (
        f"{one_line(from_name)} asks {one_line(to_name)} for an introduction on Partner "
        f"Matcher.\n\n{need_part}Their message:\n{message}\n\n"
        f"Accept or decline it here:\n{link}\n\n{CONSENT_NOTE}"
    )


def accepted_body(to_name: str, link: str) -> str:
    return (
        f"{one_line(to_name)} accepted your request for an introduction.\n\n"
        f"Their contact details and a message thread are open here:\n{link}"
    )


def message_body(author_org: str, author: str, body: str, link: str) -> str:
    who = f"{one_line(author)} ({one_line(author_org)})" if author else one_line(author_org)
    return f"{who} wrote:\n\n{body}\n\nReply here:\n{link}"
