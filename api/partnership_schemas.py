"""Schemas of /v1/partnership-records: the plan as sent and shown, check-ins, versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from matcher.followthrough.plan import CheckInInput, Outcome, Plan

_PLAN_EXAMPLE: dict[str, Any] = {
    "title": "Saturday food distribution",
    "goals": [
        {
            "id": "meals",
            "description": "More families fed each week",
            "indicator": "meals served a week",
            "baseline": 120,
            "target": 300,
            "unit": "meals",
        }
    ],
    "roles": {"org-00001": "runs the distribution", "org-00002": "donates groceries"},
    "milestones": [{"id": "van", "title": "Refrigerated van in service", "due": "2027-02-01"}],
}


class PartnershipRecordCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "org-00001",
                    "partner_id": "org-00002",
                    "plan": _PLAN_EXAMPLE,
                }
            ]
        },
    )

    organisation_id: str = Field(min_length=1, max_length=128, description="your organisation")
    partner_id: str = Field(min_length=1, max_length=128, description="the partner invited")
    introduction_id: str | None = Field(None, max_length=64)
    plan: Plan


class PartnershipRecordEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: Plan


class GoalProgress(BaseModel):
    goal_id: str
    latest: float | None = Field(description="the last value reported by either side")
    share_done: float | None = Field(description="0 at the baseline, 1 at the target")


class PartnershipRecordOut(BaseModel):
    id: str
    organisation_id: str
    partner_id: str
    introduction_id: str | None
    status: str = Field(description="proposed, active, declined or closed")
    plan: Plan
    outcome: Outcome | None
    progress: list[GoalProgress]
    version: int = Field(description="send it back in If-Match to edit or close")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None


class PartnershipRecordList(BaseModel):
    items: list[PartnershipRecordOut]


class CheckInCreate(CheckInInput):
    pass


class CheckInOut(BaseModel):
    id: str
    organisation_id: str
    person_id: str
    progress: dict[str, float]
    rating: int | None
    note: str
    at: datetime


class CheckInList(BaseModel):
    items: list[CheckInOut]


class OutcomeIn(Outcome):
    pass


class VersionOut(BaseModel):
    version: int
    status: str
    change: str
    person_id: str
    plan: Plan
    outcome: Outcome | None
    at: datetime


class VersionList(BaseModel):
    items: list[VersionOut]
