"""One Settings object, read from the environment with the prefix PAPPUS_."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration; safe defaults for the embedded (SQLite) mode."""

    model_config = SettingsConfigDict(env_prefix="PAPPUS_", env_file=".env", extra="ignore")

    # Storage. The embedded default is a SQLite file in the working directory.
    database_url: str = "sqlite:///pappus.db"
    # Connections each process keeps open, and how many more it may open for a burst (closed
    # again when returned). A request holds one for its whole transaction, so a process
    # serving more requests at once than it keeps open connects and disconnects on every
    # request beyond them, each time on a new server process with no prepared statements.
    db_pool_size: int = Field(default=20, ge=1, le=1000)
    db_max_overflow: int = Field(default=20, ge=0, le=1000)
    redis_url: str | None = None
    # Where Huey keeps its queue when Redis is not configured.
    jobs_sqlite_path: str | None = None
    # Run the job consumer inside `pappus serve` (the embedded default needs no second command).
    run_jobs_in_process: bool | None = None

    # Auth.
    access_token_minutes: int = Field(default=30, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)

    # Requests.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    # Money: platform fees in basis points, snapshotted on each order's contract.
    currency: str = "CNY"
    brand_fee_bp: int = Field(default=1000, ge=0, le=10_000)
    creator_commission_bp: int = Field(default=500, ge=0, le=10_000)

    # Creator earnings become available for payout this many days after release.
    creator_holding_days: int = Field(default=7, ge=0, le=90)
    min_payout_amount: int = Field(default=1000, ge=1)
    # 32 bytes, urlsafe base64 (pappus.kit.crypto.new_key()); generated per database if unset.
    encryption_key: str | None = None

    # Where this Pappus is reached by browsers (the OAuth callback is built on it).
    public_url: str = "http://127.0.0.1:8000"
    # Social platforms: the sandbox platform (`pappus sandbox`) and this client's credentials.
    sandbox_url: str = "http://127.0.0.1:8100"
    sandbox_client_id: str = "pappus"
    sandbox_client_secret: str = "sandbox-client-secret"
    connector_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Move everything alive once the app has started (and once the discovery index is built)
    # out of the garbage collector's reach (gc.freeze): a full collection otherwise walks some
    # 200,000 long-lived objects, a pause of 30 to 100 ms for whatever request is running.
    # The tests turn it off: they start thousands of apps in one process.
    freeze_heap_at_start: bool = True
    # Build the discovery index when the app starts rather than at the first search
    # (`pappus serve` and `pappus demo` turn this on; tests build it on demand).
    discovery_preload: bool = False
    # A published post must be at least this close to the approved draft (orders/publishing.py).
    publication_min_similarity: float = Field(default=0.6, ge=0, le=1)
    # Hours a creator has to restore a post's disclosure label, or the post, before the order
    # is flagged and the payout held (TikTok gives 24).
    compliance_fix_hours: int = Field(default=24, ge=1, le=720)
    # How often a published post's metrics are read from its platform.
    metrics_snapshot_minutes: int = Field(default=60, ge=5, le=1440)
    # Clicks on tracking links wait this long in the process before a batch write (0: at once).
    click_flush_ms: int = Field(default=500, ge=0, le=60_000)
    # A signed conversion webhook is accepted this long either side of its timestamp.
    webhook_tolerance_seconds: int = Field(default=300, ge=30, le=3600)

    # Mail (contact verification codes). Without a server, messages are kept in the outbox as
    # "held" and shown by `pappus outbox`; nothing leaves the machine.
    smtp_url: str | None = None  # smtp://user:password@host:587?starttls=true, or smtps://
    mail_from: str = "Pappus <no-reply@pappus.invalid>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # Workflow defaults; a campaign may override the first four.
    draft_due_days: int = Field(default=7, ge=1)
    review_days: int = Field(default=3, ge=1)
    publish_due_days: int = Field(default=7, ge=1)
    measurement_days: int = Field(default=7, ge=1)
    revision_limit: int = Field(default=2, ge=0, le=10)
    application_ttl_days: int = Field(default=14, ge=1)
    invitation_ttl_days: int = Field(default=7, ge=1)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_parses(cls, value: str | None) -> str | None:
        if value:
            from pappus.messaging.transport import SmtpTransport

            SmtpTransport.from_url(value)  # a ValueError names the expected shape
        return value or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def jobs_path(self) -> str:
        if self.jobs_sqlite_path:
            return self.jobs_sqlite_path
        if self.is_sqlite and ":memory:" not in self.database_url:
            db_file = Path(self.database_url.split("///", 1)[-1])
            return str(db_file.with_name(db_file.stem + "-jobs.db"))
        return "pappus-jobs.db"

    @property
    def jobs_in_process(self) -> bool:
        if self.run_jobs_in_process is not None:
            return self.run_jobs_in_process
        return self.is_sqlite and self.redis_url is None


@lru_cache
def get_settings() -> Settings:
    return Settings()
