"""SQLAlchemy 2 table definitions. The database is the source of truth; indexes are caches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class OrganisationRow(Base):
    __tablename__ = "organisations"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(Text)
    focus_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    city: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200), index=True)
    country: Mapped[str | None] = mapped_column(String(8), index=True)
    postcode: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    service_radius_km: Mapped[float | None] = mapped_column(Float)
    size: Mapped[str | None] = mapped_column(String(16))
    service_level: Mapped[str | None] = mapped_column(String(16))
    service_regions: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    short_name: Mapped[str | None] = mapped_column(String(32))
    # the initials of the name (`names.initials`), kept at every write and indexed: a name
    # typed as its initials ("FEMA") is one range of this index, not a pass over the names
    name_initials: Mapped[str | None] = mapped_column(String(16), index=True)
    cause_code: Mapped[str | None] = mapped_column(String(64))
    website: Mapped[str | None] = mapped_column(String(500))
    contact: Mapped[str | None] = mapped_column(String(500))
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    sources: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    owner: Mapped[str | None] = mapped_column(String(128), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Every ORM UPDATE/DELETE of a row carries `AND version = <version read>`: a row changed
    # since it was read is never overwritten (StaleDataError, a ConflictError to callers).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


# a short name typed in any case ("usda") is one lookup, not a pass over the rows
Index("ix_organisations_short_name_lower", func.lower(OrganisationRow.short_name))


class NeedRow(Base):
    __tablename__ = "needs"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(300))
    place: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(8))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float | None] = mapped_column(Float)
    required_capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    wanted_sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    requester_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    kind: Mapped[str | None] = mapped_column(String(16), default="need")
    owner: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Every ORM UPDATE/DELETE of a row carries `AND version = <version read>`: a row changed
    # since it was read is never overwritten (StaleDataError, a ConflictError to callers).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class CauseRow(Base):
    """One cause of the taxonomy; `position` keeps the file's order."""

    __tablename__ = "causes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    # the sectors the taxonomy describes, comma-separated, the same on every row; None: all
    describes: Mapped[str | None] = mapped_column(String(200), nullable=True)


class EmbeddingRow(Base):
    """Embedding cache: one vector per (model, sha256 of text)."""

    __tablename__ = "embeddings"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class IndexStateRow(Base):
    """Which index generation is current. Written only after the files are in place."""

    __tablename__ = "index_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RecommendationRow(Base):
    """A served recommendation, so feedback can be tied to what was shown."""

    __tablename__ = "recommendations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    need: Mapped[dict[str, Any]] = mapped_column(JSON)
    result_ids: Mapped[list[str]] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(200))
    index_generation: Mapped[int] = mapped_column(Integer)
    api_key_id: Mapped[str | None] = mapped_column(String(64))
    # What was shown (Recommendation without its need), so a permalink can reopen it as it was.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recommendation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[str] = mapped_column(String(128), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # who marked it: the API key, or the signed-in person (people.id) of the web page; both
    # None for an anonymous visitor's mark (stored, never a training label). `person_id` was
    # added after data directories existed: nullable, no foreign key (Database.create_all
    # adds it to old tables in place; a person is never deleted).
    api_key_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PartnershipRow(Base):
    """A past partnership (history), used as a labelled pair for training."""

    __tablename__ = "partnerships"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(128), unique=True)
    source_id: Mapped[str] = mapped_column(String(128), index=True)
    partner_id: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[float | None] = mapped_column(Float)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class NotificationRow(Base):
    """The outbox: a notification is written here first, then delivered by
    matcher.notify.dispatcher. `key` (the event's idempotency key) is unique, so an event is
    queued at most once; `claim_token` is set by the one dispatcher that claimed the row."""

    __tablename__ = "notifications"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, sending, sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- accounts: people, their sessions, organisation memberships and claims (issue 10) --------


class PersonRow(Base):
    """A person who signs in with an e-mail and a password (argon2 hash, never the password)."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # normalised: lower case
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PersonSessionRow(Base):
    """A signed-in browser: the cookie holds a random token, this row its SHA-256 only."""

    __tablename__ = "person_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountTokenRow(Base):
    """A single-use link token (password reset, e-mail verification), stored as SHA-256."""

    __tablename__ = "account_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))  # reset, verify
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailureRow(Base):
    """One failed log-in, counted per account (normalised e-mail) and per client IP."""

    __tablename__ = "login_failures"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class MembershipRow(Base):
    """A person belongs to an organisation as `member` or `admin` of that organisation."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organisation_id", "person_id"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(String(128), index=True)
    person_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClaimRow(Base):
    """A person's request to join (claim) an organisation's profile: pending, approved,
    rejected or withdrawn; `method` says how it was decided (domain, admin)."""

    __tablename__ = "organisation_claims"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(128), index=True)
    person_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    method: Mapped[str | None] = mapped_column(String(16))
    domain_match: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))


# --- end of accounts ---------------------------------------------------------------------------


Index("ix_notifications_due", NotificationRow.status, NotificationRow.next_attempt_at)

Index(
    "ix_org_sector_country_region",
    OrganisationRow.sector,
    OrganisationRow.country,
    OrganisationRow.region,
)


# --- saved needs and alerts (matcher.alerts) -------------------------------------------------


class SavedNeedRow(Base):
    """A need a group saved: its need, filters and the top results it saw (the snapshot), the
    query vector the alert worker screens changed organisations with, and when it was last
    alerted. `owner` is the API key that saved it (as needs are owned), or `person:<person id>`
    for a signed-in person (matcher.alerts.owners); `recommendation_id` the results it was
    saved from on the page, when it was."""

    __tablename__ = "saved_needs"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    owner: Mapped[str | None] = mapped_column(String(128), index=True)
    notify_to: Mapped[str | None] = mapped_column(String(500), nullable=True)
    need: Mapped[dict[str, Any]] = mapped_column(JSON)
    filters: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    limit: Mapped[int] = mapped_column(Integer, default=10)
    # [{"id", "score", "relevance"}] of the top results last seen (saved, or last alerted)
    snapshot: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    model: Mapped[str] = mapped_column(String(200))
    query_vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # organisations that entered the top results after today's alert: the next alert names them
    pending: Mapped[list[str]] = mapped_column(JSON, default=list)
    has_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # the need as `Engine.top` reads it (matcher.engine.NeedReading), so the alert worker never
    # embeds a saved need's text again: the model and corpus mean it was read under, the
    # clause vectors (float32, one row per clause) and the required capabilities; the query
    # vector is `query_vector`. Read again when the key is not the engine's.
    reading_key: Mapped[str | None] = mapped_column(String(240), nullable=True)
    reading_clauses: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reading_required: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    recommendation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the key that signs the alerts POSTed to `notify_to` when it is a webhook URL
    # (matcher.alerts.signing): made when the need is saved, shown to its owner once; kept as
    # is, since signing needs it (as MATCHER_NOTIFY_WEBHOOK_SECRET is kept in the environment).
    # None for an e-mail address, and for a URL saved before secrets (one is made at first send)
    webhook_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)


class AlertRow(Base):
    """One alert: a saved need's new entrants on one day (unique per saved need and day)."""

    __tablename__ = "alerts"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    saved_need_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("saved_needs.id", ondelete="CASCADE"), index=True
    )
    owner: Mapped[str | None] = mapped_column(String(128), index=True)
    day: Mapped[str] = mapped_column(String(10))
    organisation_ids: Mapped[list[str]] = mapped_column(JSON)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    notification_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrganisationChangeRow(Base):
    """The change log (matcher.store.changes): one row per write that changes what a serving
    process holds in memory, in the writer's transaction. `kind` says what changed
    (organisation, need, causes, key, model), `organisation_id` is the entity's id (a need id,
    a key id, ...: the column keeps its first name so old data directories need no migration),
    `organisation_pk` its integer key where it has one, `op` upsert or delete. On PostgreSQL
    `txid` is the writing transaction's id, which lets a follower read commits that land out
    of seq order without losing one. Followers: every API process (matcher.replica) and the
    alert worker, which screens the organisation rows from a stored cursor."""

    __tablename__ = "organisation_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_pk: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(
        String(16), default="organisation", server_default="organisation"
    )
    op: Mapped[str] = mapped_column(String(8), default="upsert", server_default="upsert")
    # PostgreSQL fills it (a column default set by Database.create_all; SQLite leaves it NULL)
    txid: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True, index=True, server_default=FetchedValue()
    )


ChangeRow = OrganisationChangeRow  # the general name of the change log


class AlertCursorRow(Base):
    """How far a follower has read the change log: every seq up to `seq` is done, and `done`
    lists the seqs above it done already (a transaction that committed out of order)."""

    __tablename__ = "alert_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[list[int]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index("ux_alerts_need_day", AlertRow.saved_need_id, AlertRow.day, unique=True)


# ---- follow-through: partnership records (matcher.followthrough) ---------------------------


class PartnershipRecordRow(Base):
    """A partnership two organisations run together: shared goals, roles, milestones, its
    check-ins and how it ended. `body` holds the plan (title, goals, roles, milestones); every
    change to it is kept in partnership_record_versions."""

    __tablename__ = "partnership_records"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(128), index=True)  # the proposer's side
    partner_id: Mapped[str] = mapped_column(String(128), index=True)
    introduction_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # proposed, active, declined, closed
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    proposed_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PartnershipRecordVersionRow(Base):
    __tablename__ = "partnership_record_versions"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    person_id: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(32))  # proposed, accepted, edited, closed, ...
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CheckInRow(Base):
    __tablename__ = "partnership_check_ins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    organisation_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[str] = mapped_column(String(64))
    progress: Mapped[dict[str, Any]] = mapped_column(JSON)  # goal id -> value reached
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5: how the partnership is going
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- introductions with consent (matcher.introductions) --------------------------------------


class IntroductionRow(Base):
    """One organisation asks another for an introduction: requested, then accepted, declined,
    withdrawn or expired. `decided_by` (who accepted or declined) is never shown to the
    requesting side for a decline; contact details are shown only once accepted."""

    __tablename__ = "introductions"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    from_org: Mapped[str] = mapped_column(String(128), index=True)
    to_org: Mapped[str] = mapped_column(String(128), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))  # a person id
    message: Mapped[str] = mapped_column(Text)
    need_text: Mapped[str] = mapped_column(Text, default="")
    need_id: Mapped[str | None] = mapped_column(String(128))
    recommendation_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)

    # a concurrent accept and decline of one request: the second write fails (ConflictError)
    __mapper_args__ = {"version_id_col": version}


class IntroductionMessageRow(Base):
    """A plain-text message of an accepted introduction's thread (between the two sides)."""

    __tablename__ = "introduction_messages"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    introduction_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("introductions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(String(64))  # a person id
    author_org: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IntroductionEventRow(Base):
    """The audit log: one row per state change of an introduction (requested, accepted,
    declined, withdrawn, expired), with the acting person and organisation."""

    __tablename__ = "introduction_events"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    introduction_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("introductions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))  # None: the system (expiry)
    actor_org: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index("ix_introductions_pair", IntroductionRow.from_org, IntroductionRow.to_org)
Index("ix_introductions_due", IntroductionRow.status, IntroductionRow.expires_at)

# one open request per pair and direction, even for two requests at the same instant
Index(
    "ux_introductions_open",
    IntroductionRow.from_org,
    IntroductionRow.to_org,
    unique=True,
    sqlite_where=IntroductionRow.status == "requested",
    postgresql_where=IntroductionRow.status == "requested",
)

# --- end of introductions ----------------------------------------------------------------------

# --- vector spaces (matcher embed) -------------------------------------------------------------


class VectorSpaceRow(Base):
    """One model identity's vectors (the `embeddings` rows keyed by it): how far `matcher embed`
    filled them, whether they were validated, and the corpus mean frozen for centring."""

    __tablename__ = "vector_spaces"

    identity: Mapped[str] = mapped_column(String(200), primary_key=True)  # name@digest16
    model_name: Mapped[str] = mapped_column(String(200))
    model_path: Mapped[str | None] = mapped_column(Text)
    dimension: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # filling, validated, incomplete
    texts: Mapped[int] = mapped_column(Integer, default=0)  # distinct texts at the last run
    mean: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32, frozen once
    mean_count: Mapped[int] = mapped_column(Integer, default=0)  # profiles it averages
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- end of vector spaces ----------------------------------------------------------------------

# --- scale out: shared rate limits, training jobs (issue 11, item 1) -----------------------


class RateBucketRow(Base):
    """A token bucket shared by every serving process (api.ratelimit, rate_limit_store =
    database): `tokens` left at `stamp` (seconds since the epoch); `allowed` says whether the
    last request that updated it was let through."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float)
    allowed: Mapped[int] = mapped_column(Integer, default=1)


class TrainJobRow(Base):
    """A training job (training.jobs): queued by the API (train_jobs = database), run by
    `matcher worker`, which keeps `heartbeat_at` fresh; a running job whose heartbeat stopped
    (its worker died) is claimed again and resumes. Survives a restart of either side."""

    __tablename__ = "train_jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued running succeeded failed
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    stage: Mapped[str | None] = mapped_column(String(64))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


# --- end of scale out ----------------------------------------------------------------------------


# --- scale out: the model registry shared through the database (issue 11) ------------------------


class RegistryVersionRow(Base):
    """A model-registry version (training.registry) on PostgreSQL, so that every machine
    materialises it in its own `<data_dir>/models/` (matcher.registry_sync). Its archive, the
    version folder's payload as an uncompressed tar (every file but the small metadata files
    and dotfiles), is in `chunks` rows of registry_chunks (in `archive` itself in rows written
    before: `chunks` NULL); `digest` the payload's tree digest (sha256 over relative paths and file
    digests); `meta_files` the metadata files' text by name (manifest.json, gate.json, ...),
    which may be rewritten after registration (a gate report, a calibrated floor)."""

    __tablename__ = "registry_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # weights | embedding
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    meta_files: Mapped[dict[str, Any]] = mapped_column(JSON)
    archive: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # an embedding version's int8 ONNX export (`models/onnx/<key>/`, a cache keyed by the
    # weights' sizes and modification times, which the archive keeps): served without torch
    export_dir: Mapped[str | None] = mapped_column(String(200), nullable=True)
    export_archive: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    export_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # how many registry_chunks rows hold the archive (and the export's); None: a row written
    # before archives were chunked, whose archive is the `archive` column itself (`archive`
    # is empty otherwise)
    chunks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    export_chunks: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RegistryChunkRow(Base):
    """One piece of a version's archive (`part` "payload") or of its ONNX export's ("export"),
    in order of `seq`: archives are written and read a chunk at a time (a few MB), never
    whole in memory (matcher.store.registry_chunks)."""

    __tablename__ = "registry_chunks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RegistryPointerRow(Base):
    """A registry pointer file's exact text (`CURRENT`: the ranking weights; `EMBEDDING`: the
    embedding model) on PostgreSQL; no row: nothing published (the defaults)."""

    __tablename__ = "registry_pointers"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegistryPrunedRow(Base):
    """A version `matcher models prune` removed from the shared registry (its row in
    registry_versions is gone): a machine that still has the folder with this digest never
    uploads it again, and drops it on its next sync unless it serves it (matcher.registry_sync).
    A new version registered later under the same name (another digest) replaces the row."""

    __tablename__ = "registry_pruned"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- end of the shared model registry ------------------------------------------------------------
