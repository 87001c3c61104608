"""Request and response bodies of /v1/saved-needs and /v1/alerts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.recids import EXAMPLE_ID as EXAMPLE_REC_ID
from api.schemas import (
    MAX_LIMIT,
    PAIR,
    RADIUS_NEEDS,
    THREE_CHARS,
    NeedPublic,
    Page,
    RecommendationFilters,
    RecommendationRequest,
    _pair,
    check_radius,
)

_EMAIL_RE = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,8}"
_URL_RE = r"https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]{1,300}"
ADDRESS = f"^({_EMAIL_RE}|{_URL_RE})$"
_ADDRESS = re.compile(ADDRESS)
REC_ID = r"^rec_[0-9a-f]{1,60}$"


class SavedNeedCreate(RecommendationRequest):
    """A need to save: the need itself (as for POST /v1/recommendations), or the id of a
    recommendation to save the need (and filters) it answered."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "text": "Families skip meals at the end of the month; we need fresh food.",
                    "place": "Providence, RI",
                    "limit": 10,
                    "notify_to": "group@example.org",
                },
                {"recommendation_id": EXAMPLE_REC_ID},
            ],
            # the need itself, or the recommendation whose need to save
            "oneOf": [{"required": ["text"]}, {"required": ["recommendation_id"]}],
            "dependentRequired": dict(PAIR),  # type: ignore[arg-type]
            "dependentSchemas": RADIUS_NEEDS,  # type: ignore[dict-item]
        },
    )

    # absent rather than null: the schema says a string when given (oneOf below)
    text: str = Field(  # type: ignore[assignment]
        None, min_length=3, max_length=5_000, pattern=THREE_CHARS, description="The problem"
    )
    recommendation_id: str = Field(  # type: ignore[assignment]
        None, pattern=REC_ID, description="Save the need of this recommendation instead"
    )
    notify_to: str | None = Field(
        None,
        max_length=320,
        json_schema_extra={"pattern": ADDRESS},
        description="E-mail address or http(s) webhook URL for the alerts; none: inbox only",
    )

    @field_validator("notify_to")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is None or not v:
            return None
        if not _ADDRESS.match(v):
            raise ValueError("must be an e-mail address or an http(s) URL")
        return v

    @model_validator(mode="after")
    def _coords(self) -> SavedNeedCreate:  # replaces NeedFields' check: text may be absent
        if (self.text is None) == (self.recommendation_id is None):
            raise ValueError("give either text (the need) or recommendation_id, not both")
        _pair(self.lat, self.lon)
        check_radius(self.radius_km, self.lat, self.place, self.city, self.region, self.country)
        if self.text is not None and not self.text.strip():
            raise ValueError("text must not be blank")
        return self


class TopEntryPublic(BaseModel):
    id: str
    score: float
    relevance: float | None = None


class SavedNeedPublic(BaseModel):
    id: str
    need: NeedPublic
    filters: RecommendationFilters | None
    limit: int = Field(ge=1, le=MAX_LIMIT)
    notify_to: str | None = Field(
        description="Where the alerts go: an e-mail address, or a webhook URL shown masked"
        " (`https://host/…` and the last 4 characters of a long path: it often carries a"
        " token), whole only in the response that creates the saved need"
    )
    snapshot: list[TopEntryPublic] = Field(description="The top results last seen")
    pending: list[str] = Field(description="Entrants to name in the next alert")
    created_at: datetime
    last_alerted_at: datetime | None
    run_url: str = Field(description="Run it again on today's data (POST)")


WEBHOOK_SECRET_DOC = (
    "The key that signs the alerts POSTed to notify_to (a webhook URL): X-Matcher-Signature:"
    " sha256=<hex HMAC-SHA256 of '<X-Matcher-Timestamp>.<body>'>. Shown this once: keep it"
    " (POST /v1/saved-needs/{id}/webhook-secret replaces it). None for an e-mail address."
)


class SavedNeedCreated(SavedNeedPublic):
    """The saved need as created: with its webhook's signing secret, shown only here."""

    webhook_secret: str | None = Field(None, description=WEBHOOK_SECRET_DOC)


class WebhookSecretPublic(BaseModel):
    saved_need_id: str
    webhook_secret: str = Field(
        description="The new signing secret, shown this once; the old one signs nothing more"
    )


class SavedNeedPage(Page):
    items: list[SavedNeedPublic]


class AlertPublic(BaseModel):
    id: int
    saved_need_id: str
    day: str
    organisation_ids: list[str] = Field(description="Organisations that entered the top results")
    results: list[TopEntryPublic] = Field(description="The top results when alerted")
    notification_key: str | None
    created_at: datetime


class AlertPage(Page):
    items: list[AlertPublic]


def filters_public(filters: Any) -> RecommendationFilters | None:
    """The saved domain filters as the API shows them (sectors are the need's wanted_sectors)."""
    if filters is None:
        return None
    doc = filters.model_dump(mode="json")
    return RecommendationFilters.model_validate(
        {k: doc[k] for k in RecommendationFilters.model_fields if doc.get(k) not in (None, [])}
    )
