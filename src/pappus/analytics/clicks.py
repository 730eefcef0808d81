"""Clicks on tracking links: who counts (bots and repeat visits do not), and how they reach
the database in batches without slowing the redirect.

A visit is one visitor (HMAC of address and user agent) on one link in one 30-minute bucket
(fixed buckets from the epoch); its first click is valid and the rest are duplicates. The
buckets are claimed with INSERT ... ON CONFLICT DO NOTHING, so the verdict is the same
whichever process served the clicks.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from pappus.analytics import repository as repo
from pappus.db import Database

logger = logging.getLogger("pappus.analytics")

VISIT_SECONDS = 30 * 60

# User agents of crawlers, link-preview fetchers, monitors and HTTP libraries: a request from
# one is recorded, but it is not a person and never counts or attributes.
BOT_AGENT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|embedly|whatsapp|telegram|"
    r"skypeuripreview|curl/|wget/|python-|httpx|aiohttp|go-http-client|java/|libwww|scrapy|"
    r"headless|phantomjs|lighthouse|pingdom|uptime|monitor|postman|insomnia",
)  # matched against the lower-cased agent: IGNORECASE costs ten times as much per search


def is_bot_request(user_agent: str, method: str, purpose: str) -> bool:
    """No user agent, a known automated one, a HEAD request or a browser's prefetch."""
    if not user_agent.strip() or method == "HEAD":
        return True
    if "prefetch" in purpose.lower() or "preview" in purpose.lower():
        return True
    return BOT_AGENT.search(user_agent.lower()) is not None


def visitor_hash(key: bytes, address: str, user_agent: str) -> str:
    return hmac.new(key, f"{address}\n{user_agent}".encode(), hashlib.sha256).hexdigest()[:32]


def visitor_key(encryption_key: str) -> bytes:
    """The visitor HMAC key, derived from the field-encryption key (never stored apart)."""
    return hashlib.sha256(b"pappus-visitor:" + encryption_key.encode()).digest()


@dataclass(frozen=True)
class ClickIn:
    id: str
    link_id: str
    order_id: str
    campaign_id: str
    organization_id: str
    at: datetime
    visitor_hash: str
    user_agent: str
    referrer: str
    is_bot: bool


@dataclass(frozen=True)
class ClickBatchResult:
    clicks: int
    valid: int
    bots: int
    duplicates: int


def _hour(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def _visit_key(click: ClickIn) -> str:
    bucket = int(click.at.timestamp()) // VISIT_SECONDS
    return hashlib.sha256(f"{click.link_id}|{click.visitor_hash}|{bucket}".encode()).hexdigest()


def ingest_clicks(session: Session, clicks: Sequence[ClickIn]) -> ClickBatchResult:
    """Write a batch of clicks with their verdicts and add them to the hourly rollups.

    Safe to run twice (a job retried after it committed): clicks already stored are skipped,
    so nothing is counted twice."""
    stored = repo.stored_click_ids(session, [c.id for c in clicks])
    if stored:
        clicks = [c for c in clicks if c.id not in stored]
    first_of_visit: dict[str, ClickIn] = {}
    for click in clicks:
        if not click.is_bot:
            first_of_visit.setdefault(_visit_key(click), click)
    claimed = repo.claim_visits(
        session, [{"key": key, "at": c.at} for key, c in first_of_visit.items()]
    )
    valid_ids = {first_of_visit[key].id for key in claimed}
    rows: list[tuple[object, ...]] = []
    # (link, hour) -> [clicks, valid, bots, duplicates]
    counts: dict[tuple[str, datetime], list[int]] = {}
    owners: dict[str, ClickIn] = {}
    bots = duplicates = 0
    for click in clicks:
        valid = click.id in valid_ids
        duplicate = not click.is_bot and not valid
        bots += click.is_bot
        duplicates += duplicate
        # Plain tuples in the table's column order (repo.CLICK_COLUMNS): building dicts, or
        # dataclasses.asdict's deep copies, was most of the cost of a batch.
        rows.append(
            (
                click.id,
                click.link_id,
                click.order_id,
                click.campaign_id,
                click.organization_id,
                click.at,
                click.visitor_hash,
                click.user_agent,
                click.referrer,
                click.is_bot,
                duplicate,
            )
        )
        owners[click.link_id] = click
        tally = counts.setdefault((click.link_id, _hour(click.at)), [0, 0, 0, 0])
        tally[0] += 1
        tally[1] += valid
        tally[2] += click.is_bot
        tally[3] += duplicate
    rollups = [
        {
            "link_id": link_id,
            "hour": hour,
            "order_id": owners[link_id].order_id,
            "campaign_id": owners[link_id].campaign_id,
            "clicks": tally[0],
            "valid_clicks": tally[1],
            "bot_clicks": tally[2],
            "duplicate_clicks": tally[3],
        }
        for (link_id, hour), tally in counts.items()
    ]
    repo.insert_clicks(session, rows)
    repo.add_click_rollups(session, rollups)
    return ClickBatchResult(
        clicks=len(rows), valid=len(valid_ids), bots=bots, duplicates=duplicates
    )


def prune_visits(session: Session, at: datetime) -> int:
    """Forget visit buckets that can no longer be repeated into."""
    return repo.prune_visits(session, at - timedelta(seconds=2 * VISIT_SECONDS))


def as_row(click: ClickIn) -> tuple[object, ...]:
    """A click as plain values, for a job's arguments."""
    return (
        click.id,
        click.link_id,
        click.order_id,
        click.campaign_id,
        click.organization_id,
        click.at.isoformat(),
        click.visitor_hash,
        click.user_agent,
        click.referrer,
        click.is_bot,
    )


def from_row(row: Sequence[object]) -> ClickIn:
    values = list(row)
    values[5] = datetime.fromisoformat(str(values[5]))
    return ClickIn(*values)  # type: ignore[arg-type]


class ClickBuffer:
    """Clicks wait here a moment and are written in batches by one thread per process.

    A failed write keeps the batch for the next attempt. A process killed outright loses at
    most the clicks of the current interval (`PAPPUS_CLICK_FLUSH_MS`); clicks move no money,
    and a graceful stop writes everything first."""

    MAX_BATCH = 5_000

    def __init__(
        self,
        db: Database,
        flush_seconds: float,
        max_pending: int = 200_000,
        sink: Callable[[list[ClickIn]], None] | None = None,
    ) -> None:
        self.db = db
        # Where a batch goes: written here, or (with Redis) handed to a worker as a job.
        self.sink = sink or self._write
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self._pending: list[ClickIn] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0

    def add(self, click: ClickIn) -> None:
        with self._lock:
            self._pending.append(click)
            if len(self._pending) > self.max_pending:
                # The database has been failing for a long time: keep the newest.
                overflow = len(self._pending) - self.max_pending
                del self._pending[:overflow]
                self.dropped += overflow
                logger.error("click buffer full; dropped %d oldest clicks", overflow)
            if self._thread is None:
                self._start()
        if self.flush_seconds <= 0:
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write everything pending now; returns how many clicks were written."""
        written = 0
        with self._write_lock:
            while True:
                with self._lock:
                    batch = self._pending[: self.MAX_BATCH]
                    del self._pending[: len(batch)]
                if not batch:
                    return written
                try:
                    self.sink(batch)
                except Exception:
                    with self._lock:
                        self._pending[:0] = batch
                    raise
                written += len(batch)
                self.written += len(batch)

    def _write(self, batch: list[ClickIn]) -> None:
        with self.db.unit_of_work() as session:
            ingest_clicks(session, batch)

    def _start(self) -> None:
        if self.flush_seconds <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="click-buffer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            try:
                self.flush()
            except Exception:
                logger.exception("writing clicks failed; they are kept for the next attempt")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        # Ready to start again if the app is served once more (tests reuse apps).
        self._thread = None
        self._stop = threading.Event()
        try:
            self.flush()
        except Exception:
            logger.exception("writing the last clicks failed; %d lost", self.pending())
