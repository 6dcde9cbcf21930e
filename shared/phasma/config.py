"""Settings: every URL, limit and default in one model, read from the environment.

Fixed product constants (docs/operations.md §6: "not configurable") live in `Limits`;
everything an operator may tune is a field of `Settings`.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Limits:
    """Product rules that are part of the contract, not deployment tuning."""

    SESSION_TTL_SECONDS: Final = 7 * 24 * 3600
    SESSION_REFRESH_BELOW_SECONDS: Final = SESSION_TTL_SECONDS // 2
    # A session's `last_used` is stamped at most this often, not on every request.
    SESSION_LAST_USED_EVERY_SECONDS: Final = 300
    SESSIONS_PER_USER: Final = 100
    LOGIN_THROTTLE_IP_LIMIT: Final = 5
    LOGIN_THROTTLE_EMAIL_LIMIT: Final = 50
    LOGIN_THROTTLE_WINDOW_SECONDS: Final = 15 * 60
    # A trusted device's attempts count on their own counter instead of the email's
    # (docs/api.md §A.5); a stolen device cookie still gets only this many.
    LOGIN_THROTTLE_DEVICE_LIMIT: Final = 5
    DEVICE_COOKIE_TTL_SECONDS: Final = 365 * 24 * 3600
    JSON_BODY_MAX_BYTES: Final = 100 * 1024
    JSON_MAX_DEPTH: Final = 64
    STREAMS_PER_USER: Final = 5
    NAME_MAX_CHARS: Final = 100
    USERNAME_MIN_CHARS: Final = 3
    USERNAME_MAX_CHARS: Final = 30
    EMAIL_MAX_CHARS: Final = 255
    BIO_MAX_CHARS: Final = 300
    PASSWORD_MIN_BYTES: Final = 8
    PASSWORD_MAX_BYTES: Final = 128
    PAGE_DEFAULT_LIMIT: Final = 10
    PAGE_MAX_LIMIT: Final = 50
    CURSOR_MAX_CHARS: Final = 512
    REQUEST_ID_MAX_CHARS: Final = 64
    # What `POST /uploads` takes (docs/api.md §F): a phone's original photo, HEIC included.
    UPLOAD_MAX_BYTES: Final = 20_000_000
    UPLOAD_MAX_PIXELS: Final = 50_000_000
    # What is stored of it: scaled to this longest side, re-encoded within this many bytes.
    IMAGE_STORED_LONGEST_SIDE: Final = 2048
    IMAGE_STORED_MAX_BYTES: Final = 1_000_000
    UPLOAD_PENDING_MAX: Final = 20
    UPLOAD_EXPIRY_SECONDS: Final = 3600
    # Widths in pixels of the responsive renditions made of every upload wider than them.
    IMAGE_RENDITION_WIDTHS: Final = (640, 1080)
    CELEBRITY_FOLLOWER_THRESHOLD: Final = 10_000
    FOLLOW_BACKFILL_POSTS: Final = 50
    FEED_LIVE_WINDOW_DAYS: Final = 90
    FEED_FANOUT_BATCH_ROWS: Final = 5000
    # GET /feed merges the newest posts of this many of the viewer's most recently
    # followed hashtags: the read's cost stays bounded however many tags one follows.
    FEED_FOLLOWED_HASHTAGS_MERGED: Final = 100
    DESCRIPTION_MAX_CHARS: Final = 1000
    POST_IMAGES_MAX: Final = 10  # images of one album post (docs/api.md §F)
    ALT_TEXT_MAX_CHARS: Final = 1000
    HASHTAG_MAX_CHARS: Final = 50
    HASHTAGS_PER_POST: Final = 20
    COMMENT_MAX_CHARS: Final = 400
    # Only the first 20 distinct `@names` of a caption or comment notify: a text
    # cannot page a crowd (the original product's limit per comment).
    MENTIONS_NOTIFIED_PER_TEXT: Final = 20
    # A notification quotes at most this much of its comment or caption.
    NOTIFICATION_EXCERPT_CHARS: Final = 100
    # Reports and moderation (docs/api.md §D): a reporter's note and a moderator's note.
    REPORT_NOTE_MAX_CHARS: Final = 1000
    DECISION_NOTE_MAX_CHARS: Final = 1000
    # A queue entry lists at most this many of its subject's open reports (their reasons
    # and notes); `reports` still counts them all.
    MODERATION_REPORTS_SHOWN: Final = 20
    POPULAR_POSTS_MAX: Final = 20
    POPULAR_WINDOW_DAYS: Final = 7
    SUGGESTED_USERS_MAX: Final = 5
    RESERVED_USERNAMES: Final = frozenset({"search", "suggested"})
    SEARCH_QUERY_MAX_CHARS: Final = 50
    SEARCH_DEFAULT_LIMIT: Final = 20
    TYPEAHEAD_MAX_RESULTS: Final = 10
    RECENT_SEARCHES_MAX: Final = 10
    SEARCH_ENGINE_TIMEOUT_SECONDS: Final = 5
    # docs/api.md §B: mail tokens (at least 32 random bytes), their lifetimes, and resends.
    MAIL_TOKEN_BYTES: Final = 32
    VERIFICATION_TOKEN_TTL_SECONDS: Final = 24 * 3600
    RESET_TOKEN_TTL_SECONDS: Final = 3600
    VERIFICATION_RESENDS_PER_HOUR: Final = 3
    # Reset mails requested per account per hour; beyond it `POST /password-resets`
    # still answers 202 but mails nothing (docs/security.md §10).
    PASSWORD_RESET_MAILS_PER_HOUR: Final = 3
    # The janitor keeps a spent or expired mail token this long after it ended, so
    # support can still see why a recent link failed; the audit log keeps the rest.
    MAIL_TOKEN_KEEP_AFTER_END_SECONDS: Final = 24 * 3600
    # A private account's image URL (docs/security.md, "Private media") works for at
    # least this long after it was handed out, at most one step more: the expiry is
    # rounded up to a step so every page in that step gets the same, cacheable URL.
    MEDIA_URL_TTL_SECONDS: Final = 3600
    MEDIA_URL_EXPIRY_STEP_SECONDS: Final = 600
    # A ready data export is downloadable this long, then the janitor removes it (docs/api.md §C).
    EXPORT_TTL_SECONDS: Final = 24 * 3600
    # Rows the exporter reads per query: each JSON list is written a page at a time.
    EXPORT_PAGE_ROWS: Final = 500


class BucketPolicy(BaseModel):
    """One token-bucket policy: `burst` tokens, refilled at `rate` tokens per second."""

    burst: int
    rate: Decimal


RATE_LIMIT_DEFAULTS: Final[dict[str, BucketPolicy]] = {
    "strict": BucketPolicy(burst=5, rate=Decimal("0.2")),
    "typeahead": BucketPolicy(burst=20, rate=Decimal("5")),
    "read": BucketPolicy(burst=120, rate=Decimal("2")),
    "mutation": BucketPolicy(burst=30, rate=Decimal("1")),
    # Image bytes (`GET /uploads/{filename}`): public and immutable, and a page shows
    # dozens, so they never spend the `read` budget; this bounds scraping only.
    "media": BucketPolicy(burst=1200, rate=Decimal("20")),
}


Number = TypeVar("Number", int, Decimal)


def _positive_or_none(raw: Any, kind: type[Number]) -> Number | None:
    """Parse an override; the spec says unparseable, zero or negative means "use the default"."""
    if raw is None or raw == "":
        return None
    try:
        value = kind(str(raw).strip())
    except (ValueError, InvalidOperation):
        return None
    return value if value > 0 else None


class Settings(BaseSettings):
    """Deployment settings (docs/operations.md §6). Field names are the environment variables."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # Identity of the running function (Knative sets these).
    k_service: str = "phasma"
    k_revision: str = "local"
    log_level: str = "info"

    # PostgreSQL
    database_url: str | None = None
    postgres_max_conns: int = Field(5, ge=1)
    postgres_conn_lifetime_minutes: float = 30
    postgres_conn_idle_seconds: float = 300
    postgres_retry_max_attempts: int = Field(3, ge=1)
    postgres_retry_backoff_ms: int = Field(100, ge=0)
    circuit_failure_threshold: int = Field(5, ge=1)
    circuit_cooldown_seconds: float = 30
    ready_timeout_ms: int = 2000

    # Sessions and passwords
    session_hash_secret: str | None = None
    session_absolute_ttl_hours: int = Field(720, ge=1)
    argon_max_concurrency: int = Field(4, ge=1)
    argon_wait_timeout_seconds: float = 10

    # Uploads: concurrent image decodes per process (docs/operations.md §1: hard limit 2)
    upload_max_concurrency: int = Field(2, ge=1)
    upload_wait_timeout_seconds: float = 10

    # Cache, rate limiting
    cache_url: str | None = None
    cache_password: str | None = None
    cache_conn_lifetime_minutes: float = 30
    cache_conn_write_timeout_ms: int = 3000
    rate_limit_fail_open: bool = False
    rate_limit_strict_burst: int | None = None
    rate_limit_strict_rate: Decimal | None = None
    rate_limit_typeahead_burst: int | None = None
    rate_limit_typeahead_rate: Decimal | None = None
    rate_limit_read_burst: int | None = None
    rate_limit_read_rate: Decimal | None = None
    rate_limit_mutation_burst: int | None = None
    rate_limit_mutation_rate: Decimal | None = None
    rate_limit_media_burst: int | None = None
    rate_limit_media_rate: Decimal | None = None
    # Proxies in front of this function that append to (or replace) X-Forwarded-For:
    # 0 = the socket peer is the client (docs/api.md §A, phasma/http/forwarded.py).
    trusted_proxy_hops: int = Field(0, ge=0)

    # Object store
    s3_endpoint: str = "http://storage:8333"
    s3_bucket: str = "phasma"
    s3_region: str = "us-east-1"
    s3_force_path_style: bool = True
    s3_access_key: str | None = None
    s3_secret_key: str | None = None

    # Events
    kafka_brokers: str | None = None
    kafka_publish_timeout_ms: int = Field(5000, ge=1)

    # Search (unset MEILI_URL = PostgreSQL search); functions hold scoped keys only
    meili_url: str | None = None
    meili_search_key: str | None = None
    meili_indexer_key: str | None = None
    meili_master_key: str | None = None  # the setup command only, never a function
    outbox_relay_batch_size: int = Field(100, ge=1)
    outbox_relay_min_age_seconds: float = Field(10, ge=0)
    outbox_relay_time_budget_seconds: float = Field(50, gt=0)
    outbox_retention_days: int = Field(7, ge=1)
    background_pipeline_stale_seconds: float = Field(120, gt=0)
    pipeline_error_window_seconds: float = Field(30, gt=0)

    # Outgoing mail (the mailer; docs/api.md §B). Unset SMTP_HOST: the mailer cannot send and
    # every mail event is retried, then dead-lettered.
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(10, gt=0)
    mail_from: str = "Phasma <no-reply@phasma.example.com>"
    # The site's address in mailed links (the frontend's public origin).
    site_url: str = "http://127.0.0.1:8080"

    # Frontend (docs/frontend.md §2, docs/operations.md §6)
    backend_url: str | None = None  # one base for every function (the dev gateway)
    backend_url_template: str = "http://{name}.phasma.svc.cluster.local"
    backend_timeout_seconds: float = Field(10, gt=0)
    # The site is public, so its /metrics answers only to this bearer token (unset: 404).
    metrics_token: str | None = Field(None, min_length=32)
    public_origin: str = "http://127.0.0.1:8080"
    cookie_secure: bool = True
    # A 20 MB photo with its form; an album without JavaScript shares the same bound.
    body_size_limit: str = Field("20M", pattern=r"^\s*\d+\s*[KkMm]?\s*$")

    @field_validator(
        "rate_limit_strict_burst",
        "rate_limit_typeahead_burst",
        "rate_limit_read_burst",
        "rate_limit_mutation_burst",
        "rate_limit_media_burst",
        mode="before",
    )
    @classmethod
    def _burst_override(cls, raw: Any) -> int | None:
        return _positive_or_none(raw, int)

    @field_validator(
        "rate_limit_strict_rate",
        "rate_limit_typeahead_rate",
        "rate_limit_read_rate",
        "rate_limit_mutation_rate",
        "rate_limit_media_rate",
        mode="before",
    )
    @classmethod
    def _rate_override(cls, raw: Any) -> Decimal | None:
        return _positive_or_none(raw, Decimal)

    def rate_limit_policy(self, policy: str) -> BucketPolicy:
        """The effective bucket for `policy`: environment override, else the spec default."""
        default = RATE_LIMIT_DEFAULTS[policy]
        burst = getattr(self, f"rate_limit_{policy}_burst") or default.burst
        rate = getattr(self, f"rate_limit_{policy}_rate") or default.rate
        return BucketPolicy(burst=burst, rate=rate)

    @property
    def session_absolute_ttl_seconds(self) -> int:
        return self.session_absolute_ttl_hours * 3600

    @property
    def body_size_limit_bytes(self) -> int:
        """`BODY_SIZE_LIMIT` in bytes: a plain number, or with a K (KiB) or M (MiB) suffix."""
        text = self.body_size_limit.strip().upper()
        multiplier = {"K": 1024, "M": 1024 * 1024}.get(text[-1], 1)
        return int(text.rstrip("KM").strip()) * multiplier


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
