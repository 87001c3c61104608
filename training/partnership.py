"""A past partnership (who with whom, on what, when, outcome) and the outcome vocabulary.

Outcomes become training labels: 1 for partnerships that happened or were welcomed, 0 for
declined or irrelevant ones; `weight` says how sure the label is (contacted < accepted < partnered).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# outcome -> (label, weight)
OUTCOME_LABELS: dict[str, tuple[int, float]] = {
    "partnered": (1, 1.0),
    "funded": (1, 1.0),
    "completed": (1, 1.0),
    "successful": (1, 1.0),
    "active": (1, 1.0),
    "ongoing": (1, 1.0),
    "accepted": (1, 0.8),
    "contacted": (1, 0.5),
    "declined": (0, 1.0),
    "rejected": (0, 1.0),
    "unsuccessful": (0, 1.0),
    "not_relevant": (0, 1.0),
    "failed": (0, 0.7),
    "cancelled": (0, 0.5),
    "withdrawn": (0, 0.5),
    # how a partnership record (matcher.followthrough) ended: the pair did partner; whether it
    # met its goals says how good a match it was
    "achieved": (1, 1.0),
    "partly_achieved": (1, 0.7),
    "not_achieved": (0, 0.5),
}
# Feedback outcomes that carry no label (the person only looked).
UNLABELLED_OUTCOMES = frozenset({"viewed"})
DEFAULT_OUTCOME = "partnered"
# other words for the same outcomes, as analysts' files write them ("Success" was refused while
# "successful" was taken, real data walk); spaces and hyphens read as underscores
OUTCOME_ALIASES = {
    "success": "successful",
    "succeeded": "successful",
    "failure": "failed",
    "complete": "completed",
    "done": "completed",
    "finished": "completed",
    "in_progress": "ongoing",
    "canceled": "cancelled",
    "refused": "declined",
    "not_a_fit": "not_relevant",
    "irrelevant": "not_relevant",
}


def outcome_key(outcome: str | None) -> str:
    """An outcome as OUTCOME_LABELS names it (the default when blank; aliases, case, spaces and
    hyphens read): unknown words are returned as read, for the caller to refuse."""
    key = "_".join(re.split(r"[\s_-]+", (outcome or "").strip().lower())) or DEFAULT_OUTCOME
    return OUTCOME_ALIASES.get(key, key)


def label_of(outcome: str | None) -> tuple[int, float] | None:
    """(label, weight) of an outcome; None for unlabelled ones such as 'viewed'."""
    return OUTCOME_LABELS.get(outcome_key(outcome))


def partnership_id(
    source_id: str, partner_id: str, title: str | None, started_at: datetime | None
) -> str:
    """A stable id for a partnership record that has none, so re-imports upsert, not duplicate."""
    when = started_at.date().isoformat() if started_at else ""
    key = "\x1f".join([source_id, partner_id, title or "", when])
    return "p-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


class Partnership(BaseModel):
    """One past partnership: `source_id` (e.g. a funder) worked with `partner_id` (a recipient)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=128)
    source_id: str = Field(min_length=1, max_length=128)
    partner_id: str = Field(min_length=1, max_length=128)
    title: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=20_000)
    started_at: datetime | None = None
    outcome: str = DEFAULT_OUTCOME
    amount: float | None = Field(None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not str(data.get("id") or "").strip():
            data = dict(data)
            started = data.get("started_at")
            data["id"] = partnership_id(
                str(data.get("source_id") or "").strip(),
                str(data.get("partner_id") or "").strip(),
                str(data.get("title") or "").strip() or None,
                started if isinstance(started, datetime) else None,
            )
        return data

    @field_validator("title", "description", mode="before")
    @classmethod
    def _blank_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome(cls, v: Any) -> str:
        key = outcome_key(str(v or ""))
        if key not in OUTCOME_LABELS:
            raise ValueError(
                f"unknown outcome '{v}' (expected one of {', '.join(sorted(OUTCOME_LABELS))})"
            )
        return key

    @field_validator("started_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            return v.replace(tzinfo=UTC)
        return v

    @model_validator(mode="after")
    def _distinct(self) -> Partnership:
        if self.source_id == self.partner_id:
            raise ValueError(f"source_id and partner_id are both '{self.source_id}'")
        return self

    @property
    def label(self) -> int:
        return OUTCOME_LABELS[self.outcome][0]

    @property
    def weight(self) -> float:
        return OUTCOME_LABELS[self.outcome][1]

    def text(self) -> str:
        """Title and description, without repeating a description that restates the title."""
        title = (self.title or "").strip()
        desc = (self.description or "").strip()
        if not desc or desc.lower() == title.lower():
            return title
        if not title or desc.lower().startswith(title.lower()):
            return desc
        return f"{title.rstrip('.')}. {desc}"
