"""What a partnership record holds: the plan (shared goals with a measurable indicator, a
baseline and a target; each side's role; milestones), check-ins and the outcome. Free text is
plain text: control characters are stripped and lengths are limited."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

RESULTS = ("achieved", "partly_achieved", "not_achieved")
STATUSES = ("proposed", "active", "declined", "closed")
MAX_GOALS = 12
MAX_MILESTONES = 30
_KEY = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain(text: str) -> str:
    """Plain text: NFC, control characters (other than newline and tab) removed, trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def _nonblank(text: str) -> str:
    if not text:
        raise ValueError("must not be blank")
    return text


Line = Annotated[str, Field(max_length=300), AfterValidator(plain), AfterValidator(_nonblank)]
Paragraph = Annotated[str, Field(max_length=4000), AfterValidator(plain)]


class Goal(BaseModel):
    """A shared goal, measured by one indicator from `baseline` towards `target`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_KEY, description="short key, unique in the record: 'meals'")
    description: Line
    indicator: Line = Field(description="what is counted: 'meals served a week'")
    baseline: float = Field(allow_inf_nan=False)
    target: float = Field(allow_inf_nan=False)
    unit: str = Field("", max_length=40)

    @model_validator(mode="after")
    def _moves(self) -> Goal:
        if self.target == self.baseline:
            raise ValueError("target must differ from baseline")
        return self

    def share_done(self, value: float) -> float:
        """How far `value` is from the baseline towards the target (0 to 1, clipped)."""
        return min(1.0, max(0.0, (value - self.baseline) / (self.target - self.baseline)))


class Milestone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_KEY)
    title: Line
    due: date | None = None
    done: bool = False


class Plan(BaseModel):
    """The part both sides edit (every edit is a new version)."""

    model_config = ConfigDict(extra="forbid")

    title: Line
    goals: list[Goal] = Field(min_length=1, max_length=MAX_GOALS)
    # organisation id -> what that side does
    roles: dict[str, Paragraph] = Field(default_factory=dict)
    milestones: list[Milestone] = Field(default_factory=list, max_length=MAX_MILESTONES)

    @model_validator(mode="after")
    def _unique_ids(self) -> Plan:
        for name, items in (("goals", self.goals), ("milestones", self.milestones)):
            ids = [i.id for i in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"{name}: ids must be unique")
        return self

    def goal(self, goal_id: str) -> Goal | None:
        return next((g for g in self.goals if g.id == goal_id), None)


class CheckInInput(BaseModel):
    """One side's report: the value each goal's indicator has reached, a rating of how the
    partnership is going (1-5), a note."""

    model_config = ConfigDict(extra="forbid")

    organisation_id: str | None = Field(
        None, max_length=128, description="your side, when you belong to both"
    )
    progress: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict, max_length=MAX_GOALS
    )
    rating: int | None = Field(None, ge=1, le=5)
    note: Paragraph = ""

    @model_validator(mode="after")
    def _something(self) -> CheckInInput:
        if not self.progress and self.rating is None and not self.note:
            raise ValueError("a check-in reports progress, a rating or a note")
        return self


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: Literal["achieved", "partly_achieved", "not_achieved"]
    learned: Paragraph = Field("", description="what was learned")


def body_of(plan: Plan) -> dict[str, Any]:
    return plan.model_dump(mode="json")
