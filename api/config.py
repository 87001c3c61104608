"""Settings of the HTTP layer only (env prefix MATCHER_API_); engine settings live in matcher."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MATCHER_API_", extra="ignore", env_ignore_empty=True
    )

    max_body_bytes: int = Field(256 * 1024, ge=1024, description="Larger request bodies get 413")
    rate_limit_enabled: bool = True
    rate_limit_store: Literal["memory", "database"] = Field(
        "memory",
        description="memory: buckets per process; database: one set of buckets shared by every "
        "process serving the database (a small write per request)",
    )
    anonymous_per_minute: float = Field(60, gt=0, description="Requests per minute per client IP")
    anonymous_burst: int = Field(20, ge=1)
    key_per_minute: float = Field(1200, gt=0, description="Requests per minute per API key")
    key_burst: int = Field(200, ge=1)
    load_in_background: bool = Field(
        True, description="Serve /healthz while the model and index load; /readyz says when ready"
    )
    bootstrap_sample: bool = Field(
        True, description="Load and index the bundled sample corpus when the database is empty"
    )
    warm_up: bool = Field(
        True,
        description="Rank one need before /readyz says ready (loads the place gazetteers and "
        "the query model's session): the first request answers as fast as the next ones "
        "instead of about 2 s later",
    )
    bootstrap_admin_key: bool = Field(
        True, description="Create, print and save (DATA_DIR/admin-key.txt) a first admin key"
    )
    compute_slots: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Rankings computed at once (default: CPU count); more requests queue for a "
        "slot instead of thrashing the cores with threads",
    )
    key_cache_seconds: float = Field(30.0, ge=0, description="How long a verified key is cached")
    # people's accounts (sessions in signed cookies)
    session_secret: SecretStr | None = Field(
        None,
        description="Key that signs session cookies; default: made once and kept in "
        "DATA_DIR/session-secret.txt (0600)",
    )
    session_cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only (set true behind TLS)"
    )
    session_days: float = Field(14.0, gt=0, le=365, description="A sign-in lasts this long")
    public_url: str = Field(
        "http://localhost:8000",
        description="Base URL of this service in e-mailed links (never taken from the Host "
        "header, which a client controls)",
    )
    contact: str = Field(
        "",
        max_length=320,
        description="How people reach whoever runs this service (an e-mail address or a web "
        "address): shown where a page sends them to the administrator, e.g. to add their "
        "group's profile; empty: not shown",
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed log-ins per window, per account and per client IP, before 429"
    )
    login_window_seconds: float = Field(900.0, gt=0)
    record_batch_size: int = Field(
        64,
        ge=1,
        le=10_000,
        description="Served recommendations are written in batches of at most this many, off "
        "the request path; a crash loses at most one batch (0 queued after a clean shutdown)",
    )
    record_flush_ms: float = Field(
        50, ge=0, le=10_000, description="How long a batch waits to fill before it is written"
    )
    record_queue: bool = Field(
        True, description="Write recommendation records off the request path (else in it)"
    )
    query_batch_ms: float = Field(
        0.0,
        ge=0,
        le=100,
        description="How long a request waits for others to embed their query texts together "
        "(0: each alone). The int8 model's vectors depend slightly on the batch (api.query_batch)",
    )
    query_batch_size: int = Field(
        16, ge=1, le=256, description="A batch of query texts is embedded once this many wait"
    )
    max_inflight: int = Field(
        32,
        ge=1,
        le=10_000,
        description="Rankings running or waiting per process; beyond it (or with the record "
        "queue full) new ones get 503 with Retry-After instead of queueing without bound",
    )
    train_jobs: Literal["process", "database"] = Field(
        "process",
        description="process: POST /v1/analyst/train fits in a thread of the serving process; "
        "database: it queues the job in the database and `matcher worker` runs it (jobs survive "
        "restarts; every process sees them)",
    )
    # replicas that agree (matcher.replica): every process follows the change log
    follow_changes: bool = Field(
        True,
        description="Follow the change log in a background thread: writes made by other "
        "processes (uvicorn --workers N, other machines on one database) reach this one's index, "
        "key cache and published model",
    )
    follow_interval_ms: float = Field(
        250,
        ge=10,
        le=1000,
        description="The follower polls at least this often (on PostgreSQL a NOTIFY wakes it "
        "at once)",
    )
    min_seq_wait_ms: float = Field(
        2000,
        ge=0,
        le=30_000,
        description="How long a request with min_seq waits for this process to apply that "
        "change before it is answered 503 with Retry-After",
    )
