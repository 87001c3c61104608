"""Request and response bodies of people's accounts, sessions and organisation claims."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import NO_NUL, InputModel, ProfileFields
from matcher.accounts.credentials import EMAIL_MAX, EMAIL_PATTERN, PASSWORD_MAX, PASSWORD_MIN

# Passwords are taken exactly as typed: no whitespace stripping.
_SECRET_IN = ConfigDict(extra="forbid", str_strip_whitespace=False)

Email = Field(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN, examples=["ana@foodbank.example"])
NewPassword = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, pattern=NO_NUL)


class SignUp(InputModel):
    model_config = ConfigDict(
        **_SECRET_IN,
        json_schema_extra={
            "examples": [
                {"email": "ana@foodbank.example", "password": "correct horse", "name": "Ana"}
            ]
        },
    )

    email: str = Email
    password: str = NewPassword
    name: str = Field("", max_length=200, pattern=NO_NUL)


class LogIn(InputModel):
    model_config = ConfigDict(
        **_SECRET_IN,
        json_schema_extra={
            "examples": [{"email": "ana@foodbank.example", "password": "correct horse"}]
        },
    )

    email: str = Field(min_length=1, max_length=EMAIL_MAX, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX, pattern=NO_NUL)


class ResetRequest(InputModel):
    model_config = _SECRET_IN

    email: str = Field(min_length=1, max_length=EMAIL_MAX, pattern=NO_NUL)


class ResetConfirm(InputModel):
    model_config = _SECRET_IN

    token: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    password: str = NewPassword


class TokenConfirm(InputModel):
    model_config = _SECRET_IN

    token: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str


class MembershipOut(BaseModel):
    organisation_id: str
    organisation_name: str
    role: Literal["member", "admin"]
    since: datetime


class ClaimOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "claim_1a2b3c4d5e6f",
                    "organisation_id": "org-00001",
                    "person_id": "person_0a1b2c3d4e5f",
                    "status": "approved",
                    "method": "domain",
                    "domain_match": True,
                    "created_at": "2026-11-30T10:00:00Z",
                    "decided_at": "2026-11-30T10:00:00Z",
                }
            ]
        }
    )

    id: str
    organisation_id: str
    person_id: str
    status: Literal["pending", "approved", "rejected", "withdrawn"]
    method: Literal["domain", "admin"] | None = Field(
        None, description="How it was decided: the e-mail's domain, or an admin"
    )
    domain_match: bool = Field(
        description="The e-mail is at the organisation's website domain (approved once the "
        "e-mail is confirmed)"
    )
    created_at: datetime
    decided_at: datetime | None = None


class PersonOut(BaseModel):
    id: str
    email: str
    name: str
    email_verified: bool
    created_at: datetime
    memberships: list[MembershipOut] = Field(default_factory=list)
    claims: list[ClaimOut] = Field(default_factory=list)
    csrf_token: str | None = Field(
        None, description="Send as X-CSRF-Token with this session's POST, PATCH and DELETE"
    )


class MemberOut(BaseModel):
    person_id: str
    name: str
    email: str
    role: Literal["member", "admin"]
    since: datetime


class GroupCreate(ProfileFields):
    """A person's own group, as `POST /v1/me/organisations` takes it: a profile's public fields
    (no id, owner, sources or cause code; it is published at once)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "name": "Olneyville Tenants Union",
                    "sector": "community",
                    "description": "Neighbours organising for safe, affordable housing.",
                    "offers": ["door-to-door outreach in Spanish and English"],
                    "needs": ["volunteer attorneys for eviction hearings"],
                    "city": "Providence",
                    "region": "RI",
                    "country": "US",
                }
            ]
        },
    )

    website: str | None = Field(None, max_length=500, pattern=NO_NUL)
    contact: str | None = Field(
        None, max_length=500, pattern=NO_NUL, description="Shown only to its members"
    )
