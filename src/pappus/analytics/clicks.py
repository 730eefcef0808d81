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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import floor

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


def _visit_key(link_id: str, visitor: str, at: datetime) -> str:
    """The claim of one visitor on one link in one 30-minute bucket (fixed from the epoch)."""
    bucket = int(at.timestamp()) // VISIT_SECONDS
    return hashlib.sha256(f"{link_id}|{visitor}|{bucket}".encode()).hexdigest()


def ingest_clicks(session: Session, clicks: Sequence[ClickIn]) -> ClickBatchResult:
    """Write a batch of clicks with their verdicts and add them to the hourly rollups.

    Safe to run twice (a job retried after it committed): clicks already stored are skipped,
    so nothing is counted twice."""
    stored = repo.stored_click_ids(session, [c.id for c in clicks])
    if stored:
        clicks = [c for c in clicks if c.id not in stored]
    if not clicks:
        return ClickBatchResult(clicks=0, valid=0, bots=0, duplicates=0)
    # One pass, plain lists and tuples: per-click dicts and objects, and converting each
    # time more than once, were most of the cost of a batch.
    to_db = repo.db_time(session)
    sha256 = hashlib.sha256
    times: list[object] = []  # each click's time as the statements take it
    slots: list[tuple[str, int]] = []  # (link, hours since the epoch) of each click
    bot_slots: list[tuple[str, int]] = []
    first_of_visit: dict[str, int] = {}  # visit key -> its first click in the batch
    for index, click in enumerate(clicks):
        at = click.at
        stamp = at.timestamp()
        times.append(to_db(at))
        # The UTC hour: a float timestamp resolves the microsecond until the year 2242.
        slot = (click.link_id, floor(stamp) // 3600)
        slots.append(slot)
        if click.is_bot:
            bot_slots.append(slot)
        else:  # _visit_key, inline: this loop runs for every click
            bucket = int(stamp) // VISIT_SECONDS
            key = sha256(f"{click.link_id}|{click.visitor_hash}|{bucket}".encode()).hexdigest()
            first_of_visit.setdefault(key, index)
    claimed = repo.claim_visits(
        session, [(key, times[index]) for key, index in first_of_visit.items()]
    )
    valid_slots = [slots[first_of_visit[key]] for key in claimed]
    valid_ids = {clicks[first_of_visit[key]].id for key in claimed}
    # Tuples in the table's column order (repo.CLICK_COLUMNS).
    repo.insert_clicks(
        session,
        [
            (
                click.id,
                click.link_id,
                click.order_id,
                click.campaign_id,
                click.organization_id,
                at,
                click.visitor_hash,
                click.user_agent,
                click.referrer,
                click.is_bot,
                not click.is_bot and click.id not in valid_ids,  # a repeat visit
            )
            for click, at in zip(clicks, times, strict=True)
        ],
    )
    # Per (link, hour): every click is exactly one of valid, a bot, or a repeat visit.
    totals, valid, bots = Counter(slots), Counter(valid_slots), Counter(bot_slots)
    owners = {click.link_id: click for click in clicks}
    repo.add_click_rollups(
        session,
        [
            (
                link_id,
                datetime.fromtimestamp(hour * 3600, UTC),
                owners[link_id].order_id,
                owners[link_id].campaign_id,
                count,
                valid[link_id, hour],
                bots[link_id, hour],
                count - valid[link_id, hour] - bots[link_id, hour],
            )
            for (link_id, hour), count in totals.items()
        ],
    )
    return ClickBatchResult(
        clicks=len(clicks),
        valid=len(valid_slots),
        bots=len(bot_slots),
        duplicates=len(clicks) - len(valid_slots) - len(bot_slots),
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
