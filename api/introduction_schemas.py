"""Request and response bodies of introductions (/v1/introductions)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.recids import EXAMPLE_ID as EXAMPLE_REC_ID
from api.schemas import ID_PATTERN, InputModel
from matcher.introductions import Event, IntroductionView, ThreadMessage

IntroStatus = Literal["requested", "accepted", "declined", "withdrawn", "expired"]
# the schema's ceiling; the configured limit (MATCHER_INTRODUCTION_MESSAGE_CHARS) is checked
# after control characters are stripped, with a message naming it
TEXT_MAX = 20_000


class IntroductionCreate(InputModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "to_organisation_id": "org-00042",
                    "message": "We run the harbour food bank and are looking for cold storage.",
                    "recommendation_id": EXAMPLE_REC_ID,
                }
            ]
        },
    )

    to_organisation_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    from_organisation_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="The asking organisation; needed only when you belong to several",
    )
    message: str = Field(min_length=1, max_length=TEXT_MAX, description="Plain text")
    need_text: str = Field("", max_length=TEXT_MAX, description="The need, in plain words")
    need_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    recommendation_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="The recommendation that showed the partner (its need names the need)",
    )


class MessageCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=TEXT_MAX, description="Plain text")


class OrgRef(BaseModel):
    id: str
    name: str


class ContactOut(BaseModel):
    organisation_id: str
    organisation_name: str
    contact: str | None = None
    website: str | None = None
    person_name: str | None = None
    person_email: str | None = None


class IntroductionOut(BaseModel):
    id: str
    status: IntroStatus
    side: Literal["outgoing", "incoming"] = Field(
        description="outgoing: your organisation asked; incoming: it was asked"
    )
    from_organisation: OrgRef
    to_organisation: OrgRef
    message: str
    need_text: str
    need_id: str | None = None
    recommendation_id: str | None = None
    created_at: datetime
    expires_at: datetime | None = None
    decided_at: datetime | None = None
    requested_by_me: bool
    actions: list[Literal["accept", "decline", "withdraw", "message"]] = Field(
        description="What you may do now"
    )
    contact: ContactOut | None = Field(
        None, description="The other side's contact details: only once accepted"
    )


class IntroductionPage(BaseModel):
    items: list[IntroductionOut]
    total: int
    page: int
    page_size: int


class MessageOut(BaseModel):
    id: str
    author_organisation_id: str
    author_organisation_name: str
    author_name: str
    mine: bool
    body: str
    created_at: datetime


class EventOut(BaseModel):
    kind: IntroStatus
    from_status: IntroStatus | None = None
    to_status: IntroStatus
    actor_organisation_id: str | None = Field(
        None, description="The organisation that acted; none for an expiry"
    )
    actor_person_id: str | None = Field(
        None, description="Only for an action of your own organisation"
    )
    actor_name: str | None = None
    created_at: datetime


def introduction_out(view: IntroductionView) -> IntroductionOut:
    i = view.introduction
    contact = None
    if view.contact is not None:
        contact = ContactOut.model_validate(view.contact, from_attributes=True)
    return IntroductionOut(
        id=i.id,
        status=i.status,  # type: ignore[arg-type]
        side=view.side,
        from_organisation=OrgRef(id=i.from_org, name=i.from_org_name),
        to_organisation=OrgRef(id=i.to_org, name=i.to_org_name),
        message=i.message,
        need_text=i.need_text,
        need_id=i.need_id,
        recommendation_id=i.recommendation_id,
        created_at=i.created_at,
        expires_at=i.expires_at,
        decided_at=i.decided_at,
        requested_by_me=view.requested_by_me,
        actions=view.actions,  # type: ignore[arg-type]
        contact=contact,
    )


def message_out(m: ThreadMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        author_organisation_id=m.author_org,
        author_organisation_name=m.author_org_name,
        author_name=m.author_name,
        mine=m.mine,
        body=m.body,
        created_at=m.created_at,
    )


def event_out(e: Event) -> EventOut:
    return EventOut(
        kind=e.kind,  # type: ignore[arg-type]
        from_status=e.from_status,  # type: ignore[arg-type]
        to_status=e.to_status,  # type: ignore[arg-type]
        actor_organisation_id=e.actor_org,
        actor_person_id=e.actor_id,
        actor_name=e.actor_name,
        created_at=e.created_at,
    )
