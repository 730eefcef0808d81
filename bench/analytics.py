"""Analytics benchmark: the tracking redirect under load, click ingestion in batches, and the
campaign report, on SQLite and on PostgreSQL.

1. Redirect: `GET /r/{code}` on the real app (`pappus.app:create_app` under uvicorn, 1 and 2
   worker processes) from a raw-socket HTTP/1.1 keep-alive load generator (asyncio + uvloop,
   64 connections, no pipelining), beside two HTTP floors measured in the same run: a raw-ASGI
   hello (bench/analytics_hello.py) under the same uvicorn command, and the app's own
   `GET /healthz`. Each redirect cell runs closed-loop (as fast as the server answers) and
   open-loop at a fixed offered rate (3,000 req/s by default, latency from each request's
   scheduled time). After each server stops gracefully, the clicks in the database are
   compared with the 302s received: no click may be lost.
2. Ingestion: `pappus.analytics.clicks.ingest_clicks` in `Database.unit_of_work()`, batches
   of 1,000 and 5,000, against a raw `executemany` INSERT of the same rows (sqlite3 / psycopg)
   without the visit dedup and the rollups, interleaved batch by batch.
3. Report: `pappus.analytics.reports.campaign_report` for one campaign of 50 published orders
   over 10 million events (8M clicks, 2M metric snapshots; COPY on PostgreSQL, executemany on
   SQLite; `click_rollups` and `metric_daily` filled from them in SQL), plus 50,000
   conversions and 20,000 comments: without and with a stored benchmark set, and through
   `GET /api/v1/campaigns/{id}/report` (JSON and xlsx), beside the plain SQL it needs; its
   totals are checked against raw SQL.

Data is made as a client would: brand, creators, campaign and accepted orders through the
services (as bench/api_workflow.py seeds them), tracking links through
`POST /api/v1/orders/{id}/links`. Every load phase is bounded in time and stops by itself;
servers are stopped and the PostgreSQL database dropped on the way out, also on errors and
Ctrl-C. Prints tables, writes JSON (and a PNG chart with matplotlib) to bench/results/.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from analytics_chart import draw_chart
from api_workflow import (
    API,
    DEFAULT_POSTGRES_URL,
    WARMUP_SECONDS,
    _apply,
    _open_campaign,
    _seed_brand,
    _seed_creators,
    bearer,
    fmt_cpu,
    libpq_url,
    server_env,
)
from harness import (
    BENCH_DIR,
    CpuMeter,
    Progress,
    fmt_ms,
    machine_info,
    package_versions,
    percentile,
    render_table,
    say,
    serve,
    watch_postgres_database,
)

DEFAULT_OUT = BENCH_DIR / "results" / "analytics.json"
PARTS = ("redirect", "ingest", "report")
BACKENDS = ("sqlite", "postgresql")
REDIRECT_TARGET_RATE, REDIRECT_TARGET_P99_MS = 3_000.0, 20.0
INGEST_TARGET_RATE = 20_000.0
REPORT_TARGET_MS = 1_000.0
OTHER_CPU_WARNING = 25.0
PACKAGES = (
    *("pappus", "fastapi", "starlette", "uvicorn", "uvloop", "httptools"),
    *("sqlalchemy", "psycopg", "httpx", "matplotlib"),
)
EXAMPLE = """\
examples:
  python bench/analytics.py                         # redirect + ingest, both backends: ~10 min
  python bench/analytics.py --quick                 # a smoke run: ~4 min
  python bench/analytics.py --parts ingest --backends postgresql --ingest-events 50000
  python bench/analytics.py --parts redirect --duration 5 --workers 1 --rate 2000
  python bench/analytics.py --parts report --report-calls 5   # 10M events per backend: ~10 min
"""

# Mostly phones (in-app browsers of the platforms creators post on), some desktops, and
# about 5% crawlers and link-preview fetchers, which the redirect records as bots.
PEOPLE_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 discover/8.61 NetType/WIFI",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.53(0x18003531) NetType/4G Language/zh_CN",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/22B83 Instagram 356.0.0.22.91 (iPhone15,2; iOS 18_1; en_US; en)",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/115.0.5790.166 Mobile Safari/537.36 XWEB/1160065 MicroMessenger/8.0.50",
    "Mozilla/5.0 (Linux; Android 14; 23127PN0CC) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.193 Mobile Safari/537.36 XiaoHongShu/8.60.0",
    "Mozilla/5.0 (Linux; Android 12; M2102J20SG) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.230 Mobile Safari/537.36 musical_ly_2023706030 BytedanceWebview",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
BOT_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "WhatsApp/2.24.21.84 A",
    "TelegramBot (like TwitterBot)",
    "curl/8.5.0",
)
BOT_SHARE = 0.05
REFERRERS = (
    "https://www.xiaohongshu.com/",
    "https://www.instagram.com/",
    "https://l.instagram.com/",
    "https://t.co/",
    "https://www.douyin.com/",
    "",
    "",
)


# -- the load generator: raw sockets, HTTP/1.1 keep-alive, one request at a time -------------


class Connection(asyncio.Protocol):
    """One keep-alive connection; `request` writes a whole request and waits for the whole
    response (Content-Length framing only, which is all uvicorn sends here)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end])
        at = head.lower().find(b"\r\ncontent-length:")
        if at < 0:
            self._fail(ConnectionError("a response without Content-Length"))
            return
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : line_end if line_end > 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        del self.buffer[:total]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((int(head[9:12]), head))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("the server closed the connection"))
        self.transport = None

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.transport is None:
            raise ConnectionError("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class LoadStats:
    """What one load phase saw: latencies of expected answers, statuses, failures."""

    latencies: list[float] = field(default_factory=list)
    service_times: list[float] = field(default_factory=list)  # open loop: from actual send
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    bad_answers: int = 0  # expected status without what it must carry (a 302's click id)
    bots_sent: int = 0  # expected answers to requests with a crawler's user agent
    examples: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def note(self, text: str) -> None:
        if len(self.examples) < 3:
            self.examples.append(text[:300])


@dataclass(frozen=True)
class Request:
    data: bytes
    bot: bool


@dataclass(frozen=True)
class Phase:
    port: int
    requests: Sequence[Request]
    expect: int
    seconds: float
    connections: int
    rate: float | None  # None: closed loop, as fast as answers come


async def _connect(port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(Connection, "127.0.0.1", port)
    return protocol


async def _drive(phase: Phase, progress: Progress) -> LoadStats:
    stats = LoadStats()
    started = time.perf_counter()
    deadline = started + phase.seconds
    overtime = deadline + max(2.0, phase.seconds)
    pool = phase.requests
    check_click = phase.expect == 302

    async def worker(index: int) -> None:
        connection: Connection | None = None
        period = phase.connections / phase.rate if phase.rate else 0.0
        scheduled = started + index / phase.rate if phase.rate else 0.0
        n = index * 7919
        try:
            while True:
                if phase.rate:
                    # The schedule ends at the deadline; a server that fell behind gets as
                    # long again to catch up, then the rest is not sent.
                    if scheduled >= deadline or time.perf_counter() >= overtime:
                        return
                    wait = scheduled - time.perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                elif time.perf_counter() >= deadline:
                    return
                request = pool[n % len(pool)]
                n += 1
                try:
                    if connection is None or connection.transport is None:
                        connection = await _connect(phase.port)
                    sent = time.perf_counter()
                    status, head = await connection.request(request.data)
                except (OSError, ConnectionError) as exc:
                    stats.transport_errors += 1
                    stats.note(f"transport: {type(exc).__name__}: {exc}")
                    connection = None
                    await asyncio.sleep(0.01)
                    scheduled += period
                    continue
                done = time.perf_counter()
                stats.statuses[status] += 1
                if status != phase.expect:
                    stats.note(f"{status}: {head.decode('latin-1')}")
                elif check_click and b"pappus_click=" not in head:
                    stats.bad_answers += 1
                    stats.note(f"302 without a click id: {head.decode('latin-1')}")
                else:
                    stats.latencies.append(done - (scheduled if phase.rate else sent))
                    if phase.rate:
                        stats.service_times.append(done - sent)
                    stats.bots_sent += request.bot
                scheduled += period
        finally:
            if connection is not None:
                connection.close()

    async def report() -> None:
        while True:
            await asyncio.sleep(0.25)
            elapsed = min(time.perf_counter() - started, phase.seconds)
            progress.update(round(elapsed, 1), f"{len(stats.latencies):,} ok")

    reporter = asyncio.create_task(report())
    try:
        await asyncio.gather(*(worker(i) for i in range(phase.connections)))
    finally:
        reporter.cancel()
        with suppress(asyncio.CancelledError):
            await reporter
    stats.elapsed = time.perf_counter() - started
    return stats


def run_phase(phase: Phase, label: str, *, transient: bool = False) -> LoadStats:
    """Bounded by construction: no request starts after `seconds`; the running ones finish."""
    progress = Progress(
        label, round(phase.seconds, 1), " s", transient=transient, quiet_when_piped=True
    )
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        stats = runner.run(_drive(phase, progress))
    progress.done(f"{len(stats.latencies):,} ok in {stats.elapsed:.1f} s")
    return stats


def build_requests(paths: Sequence[str], port: int, count: int, seed: int) -> list[Request]:
    """`count` GETs over `paths` (uniformly at random), each with a user agent (5% bots),
    a referrer and the headers a phone's browser sends."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        bot = rng.random() < BOT_SHARE
        agent = rng.choice(BOT_AGENTS if bot else PEOPLE_AGENTS)
        referrer = rng.choice(REFERRERS)
        lines = [
            f"GET {rng.choice(paths)} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            f"User-Agent: {agent}",
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language: zh-CN,zh;q=0.9,en;q=0.8",
            "Accept-Encoding: gzip, deflate, br",
            *([f"Referer: {referrer}"] if referrer else []),
        ]
        requests.append(Request(("\r\n".join(lines) + "\r\n\r\n").encode(), bot))
    return requests


# -- databases ------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    url: str  # SQLAlchemy URL, passed as PAPPUS_DATABASE_URL
    version: str
    database: str | None = None  # the PostgreSQL database's name


@contextmanager
def sqlite_backend(workdir: Path, name: str = "analytics.db") -> Iterator[Backend]:
    yield Backend("sqlite", f"sqlite:///{workdir / name}", sqlite3.sqlite_version)


@contextmanager
def postgres_backend(admin_url: str) -> Iterator[Backend]:
    """A fresh database `pappus_bench_analytics_<random>` at `admin_url`, dropped at the end."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"pappus_bench_analytics_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
        version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        admin.execute(f'CREATE DATABASE "{name}"')
    say(f"  created PostgreSQL database {name}")
    url = make_url(admin_url).set(database=name).render_as_string(False)
    watch_postgres_database(name)
    try:
        yield Backend("postgresql", url, version, name)
    finally:
        watch_postgres_database(None)
        with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        say(f"  dropped PostgreSQL database {name}")


def click_counts(url: str) -> dict[str, int]:
    """Rows in `clicks` (all, bots, duplicates) and the clicks summed in the hourly rollups."""
    from sqlalchemy import text

    from pappus.db import Database

    db = Database(url)
    try:
        with db.unit_of_work(write=False) as session:
            clicks, bots, duplicates = session.execute(
                text(
                    "SELECT count(*), coalesce(sum(CASE WHEN is_bot THEN 1 ELSE 0 END), 0), "
                    "coalesce(sum(CASE WHEN is_duplicate THEN 1 ELSE 0 END), 0) FROM clicks"
                )
            ).one()
            rolled = session.execute(text("SELECT coalesce(sum(clicks), 0) FROM click_rollups"))
            return {
                "clicks": int(clicks),
                "bots": int(bots),
                "duplicates": int(duplicates),
                "rollup_clicks": int(rolled.scalar_one()),
            }
    finally:
        db.dispose()


# -- seeding: orders through the services, links through the API ----------------------------


@dataclass
class Seeded:
    brand_token: str
    order_ids: list[str]
    campaign_id: str
    codes: list[str] = field(default_factory=list)
    link_ids: list[str] = field(default_factory=list)


def seed_orders(url: str, orders: int, label: str) -> Seeded:
    """A funded brand, `orders` creators, one open campaign and an accepted order for each
    creator (the escrow held), as bench/api_workflow.py seeds them."""
    from pappus.campaigns import service as campaigns
    from pappus.db import Database

    db = Database(url)
    progress = Progress(f"{label}: seeding orders", 1 + 2 * orders, " rows")
    try:
        brand = _seed_brand(db)
        progress.advance()
        creators = _seed_creators(db, orders, progress)
        order_ids = []
        with db.unit_of_work() as session:
            campaign_id = _open_campaign(session, brand, "Analytics: spring serum links")
            for n, creator in enumerate(creators):
                application_id = _apply(session, creator, campaign_id, n)
                _, order = campaigns.accept_application(
                    session, brand["principal"], application_id, None
                )
                order_ids.append(str(order.id))
                progress.advance()
    finally:
        db.dispose()
    progress.done(f"{orders} accepted orders")
    return Seeded(brand["token"], order_ids, campaign_id)


def create_links(base_url: str, seeded: Seeded, links: int) -> None:
    """`links` tracking links spread over the orders, by POST /orders/{id}/links."""
    headers = bearer(seeded.brand_token)
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        for n in range(links):
            order_id = seeded.order_ids[n % len(seeded.order_ids)]
            body = {"destination": f"https://shop.example/p/{n + 1}"}
            response = client.post(f"{API}/orders/{order_id}/links", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"creating a link: {response.status_code} {response.text}")
            seeded.codes.append(response.json()["code"])
            seeded.link_ids.append(response.json()["id"])


# -- part 1: the redirect -------------------------------------------------------------------


@dataclass
class RunSettings:
    parts: list[str]
    backends: list[str]
    workers: list[int]
    duration: float
    connections: int
    rate: float
    links: int
    orders: int
    batch_sizes: list[int]
    ingest_events: int
    report_events: int
    report_calls: int
    postgres_url: str
    quick: bool
    out: Path
    flush_ms: int | None
    redis_url: str | None = None


def stats_row(stats: LoadStats, **fields: Any) -> dict[str, Any]:
    ordered = sorted(stats.latencies)
    service = sorted(stats.service_times)

    def ms(values: list[float], pct: float) -> float | None:
        value = percentile(values, pct)
        return None if value is None else round(value * 1000, 3)

    unexpected = sum(n for s, n in stats.statuses.items() if s != fields["expect"])
    return {
        **fields,
        "rate": round(len(ordered) / stats.elapsed, 1) if stats.elapsed else 0.0,
        "ok": len(ordered),
        "elapsed_s": round(stats.elapsed, 3),
        "p50_ms": ms(ordered, 50),
        "p95_ms": ms(ordered, 95),
        "p99_ms": ms(ordered, 99),
        "max_ms": ms(ordered, 100),
        "service_p99_ms": ms(service, 99),
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "errors": unexpected + stats.transport_errors + stats.bad_answers,
        "transport_errors": stats.transport_errors,
        "bots_sent": stats.bots_sent,
        "error_examples": stats.examples,
    }


def load_cell(
    app: str,
    env: dict[str, str],
    workdir: Path,
    workers: int,
    label: str,
    path_pool: Sequence[str],
    expect: int,
    settings: RunSettings,
    rate: float | None,
) -> tuple[dict[str, Any], int, list[str]]:
    """One server, a 1 s warm-up and the timed phase; the row, the expected answers of both
    (the 302s a click check needs) and the lines the server logged as errors."""
    health = "/" if app.startswith("analytics_hello") else "/healthz"
    name = label.replace(" ", "_").replace("/", "").replace(":", "")
    with serve(app, env, workdir, health, name, workers) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        pool = build_requests(path_pool, port, 4096, seed=len(label))
        common = (port, pool, expect)
        warm = run_phase(
            Phase(*common, WARMUP_SECONDS, settings.connections, None),
            f"{label} (warm-up)",
            transient=True,
        )
        meter = CpuMeter(server.process.pid)
        stats = run_phase(Phase(*common, settings.duration, settings.connections, rate), label)
        cpu = meter.read()
    row = stats_row(stats, expect=expect, workers=workers, connections=settings.connections)
    row["cpu"] = cpu
    server_pct = cpu.get("server_pct")
    row["server_cpu_us_per_request"] = (
        round(server_pct / 100 / row["rate"] * 1e6, 1) if server_pct and row["rate"] else None
    )
    row["offered_rate"] = rate
    row["warmup_ok"] = len(warm.latencies)
    row["bots_sent_with_warmup"] = warm.bots_sent + stats.bots_sent
    row["errors"] += warm.transport_errors + sum(n for s, n in warm.statuses.items() if s != expect)
    return row, len(warm.latencies) + len(stats.latencies), server.logged_errors()


def hello_rows(settings: RunSettings, workdir: Path) -> list[dict[str, Any]]:
    say("\n== HTTP floor: a raw-ASGI hello under the same uvicorn command ==")
    rows = []
    env = server_env(None, workdir)
    for workers in settings.workers:
        for rate in (None, settings.rate):
            load = "closed" if rate is None else f"{rate:,.0f}/s"
            label = f"raw ASGI hello, {workers}w, {load}"
            row, _, log_errors = load_cell(
                "analytics_hello:create_app",
                env,
                workdir,
                workers,
                label,
                ["/"],
                200,
                settings,
                rate,
            )
            row.update(backend="-", scenario="raw ASGI hello (floor)", load=load)
            row["server_log_errors"] = len(log_errors)
            rows.append(row)
    return rows


def redirect_rows(
    backend: Backend, seeded: Seeded, settings: RunSettings, workdir: Path
) -> list[dict[str, Any]]:
    """Per worker count: GET /healthz (closed loop), then the redirect closed loop and at
    the offered rate, each on its own server so each has its own click check."""
    rows = []
    env = server_env(backend.url, workdir)
    if settings.flush_ms is not None:
        env["PAPPUS_CLICK_FLUSH_MS"] = str(settings.flush_ms)
    if settings.redis_url:
        env["PAPPUS_REDIS_URL"] = settings.redis_url
    redirect_paths = [f"/r/{code}" for code in seeded.codes]
    for workers in settings.workers:
        cells: list[tuple[str, list[str], int, float | None, str]] = [
            ("GET /healthz (app floor)", ["/healthz"], 200, None, "closed"),
            ("GET /r/{code}", redirect_paths, 302, None, "closed"),
            ("GET /r/{code}", redirect_paths, 302, settings.rate, f"{settings.rate:,.0f}/s"),
        ]
        for scenario, paths, expect, rate, load in cells:
            label = f"{backend.name}: {scenario.split(' (')[0]}, {workers}w, {load}"
            before = click_counts(backend.url) if expect == 302 else None
            worker = start_click_worker(env, workdir) if settings.redis_url and before else None
            row, answered, log_errors = load_cell(
                "pappus.app:create_app", env, workdir, workers, label, paths, expect, settings, rate
            )
            if worker is not None and before is not None:
                drain_clicks(backend.url, before["clicks"] + answered, worker)
            row.update(backend=backend.name, scenario=scenario, load=load)
            row["server_log_errors"] = len(log_errors)
            if log_errors:
                say(f"  !! the server logged {len(log_errors)} error lines: {log_errors[:3]}")
            if before is not None:
                after = click_counts(backend.url)
                row["click_check"] = {
                    "redirects_302": answered,
                    "stored": after["clicks"] - before["clicks"],
                    "in_rollups": after["rollup_clicks"] - before["rollup_clicks"],
                    "bots_stored": after["bots"] - before["bots"],
                    "duplicates_stored": after["duplicates"] - before["duplicates"],
                }
                row["click_check"]["lost"] = answered - row["click_check"]["stored"]
            rows.append(row)
    return rows


def start_click_worker(env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    """A `pappus worker` that writes the clicks the servers hand to Redis (--redis-url)."""
    log = (workdir / "click-worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "pappus.cli", "worker", "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def drain_clicks(url: str, expected: int, worker: subprocess.Popen[bytes]) -> None:
    """Wait (up to a minute) until the worker has written every click, then stop it."""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and click_counts(url)["clicks"] < expected:
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """vs hello: req/s over the raw-ASGI hello's with as many workers; vs healthz: over the
    same backend's /healthz with as many workers (closed-loop rows only)."""
    for row in rows:
        if row["load"] != "closed":
            continue
        hello = next(
            (
                r["rate"]
                for r in rows
                if r["backend"] == "-" and r["workers"] == row["workers"] and r["rate"]
            ),
            None,
        )
        health = next(
            (
                r["rate"]
                for r in rows
                if r["backend"] == row["backend"]
                and r["workers"] == row["workers"]
                and r["scenario"].startswith("GET /healthz")
                and r["rate"]
            ),
            None,
        )
        row["vs_hello"] = round(row["rate"] / hello, 3) if hello else None
        if not row["scenario"].startswith("GET /healthz") and row["backend"] != "-":
            row["vs_healthz"] = round(row["rate"] / health, 3) if health else None


# -- part 2: ingestion ----------------------------------------------------------------------


class ClickStream:
    """Clicks as the redirect's buffer hands them over: times moving forward (a batch spans
    minutes to an hour), 50 links of 10 orders, visitors returning often enough that about a
    third are repeat visits, 5% bots."""

    def __init__(self, seed: int, links: int, orders: int, span: timedelta, total: int) -> None:
        from pappus.kit.ids import new_id

        self.new_id = new_id
        self.rng = random.Random(seed)
        self.campaign_id = new_id("cmp")
        self.organization_id = new_id("org")
        order_ids = [new_id("ord") for _ in range(orders)]
        self.links = [new_id("lnk") for _ in range(links)]
        self.order_of = {link: order_ids[n % orders] for n, link in enumerate(self.links)}
        self.start = datetime.now(UTC) - span
        self.step = span / max(1, total)
        self.made = 0
        self.recent: list[tuple[str, str, str]] = []  # (visitor hash, agent, link id)

    def batch(self, size: int) -> list[Any]:
        from pappus.analytics.clicks import ClickIn

        rng = self.rng
        clicks = []
        for _ in range(size):
            bot = rng.random() < BOT_SHARE
            if not bot and self.recent and rng.random() < 0.35:
                visitor, agent, link_id = rng.choice(self.recent)
            else:
                visitor = hashlib.sha256(rng.randbytes(16)).hexdigest()[:32]
                agent = rng.choice(BOT_AGENTS if bot else PEOPLE_AGENTS)
                link_id = self.links[rng.randrange(len(self.links))]
                if not bot:
                    self.recent.append((visitor, agent, link_id))
                    if len(self.recent) > 2_000:
                        del self.recent[:1_000]
            clicks.append(
                ClickIn(
                    id=self.new_id("clk"),
                    link_id=link_id,
                    order_id=self.order_of[link_id],
                    campaign_id=self.campaign_id,
                    organization_id=self.organization_id,
                    at=self.start + self.made * self.step,
                    visitor_hash=visitor,
                    user_agent=agent,
                    referrer=rng.choice(REFERRERS),
                    is_bot=bot,
                )
            )
            self.made += 1
        return clicks


CLICK_COLUMNS = (
    *("id", "link_id", "order_id", "campaign_id", "organization_id", "at"),
    *("visitor_hash", "user_agent", "referrer", "is_bot", "is_duplicate"),
)


class RawClickWriter:
    """The floor: the same clicks as one executemany INSERT per batch, in one transaction,
    with sqlite3 (WAL, synchronous=NORMAL, as the app sets) or psycopg directly."""

    def __init__(self, backend: Backend) -> None:
        self.sqlite = backend.name == "sqlite"
        columns = ", ".join(CLICK_COLUMNS)
        if self.sqlite:
            path = backend.url.removeprefix("sqlite:///")
            self.connection: Any = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            marks = ", ".join("?" for _ in CLICK_COLUMNS)
        else:
            import psycopg

            self.connection = psycopg.connect(libpq_url(backend.url), autocommit=True)
            marks = ", ".join("%s" for _ in CLICK_COLUMNS)
        self.sql = f"INSERT INTO clicks ({columns}) VALUES ({marks})"

    def write(self, clicks: Sequence[Any], ids: Sequence[str]) -> None:
        if self.sqlite:
            rows = [
                (
                    *(i, c.link_id, c.order_id, c.campaign_id, c.organization_id),
                    c.at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    *(c.visitor_hash, c.user_agent, c.referrer, int(c.is_bot), 0),
                )
                for c, i in zip(clicks, ids, strict=True)
            ]
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany(self.sql, rows)
            self.connection.execute("COMMIT")
            return
        rows = [
            (
                *(i, c.link_id, c.order_id, c.campaign_id, c.organization_id, c.at),
                *(c.visitor_hash, c.user_agent, c.referrer, c.is_bot, False),
            )
            for c, i in zip(clicks, ids, strict=True)
        ]
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.executemany(self.sql, rows)

    def close(self) -> None:
        self.connection.close()


def ingest_rows(backend: Backend, settings: RunSettings) -> list[dict[str, Any]]:
    """For each batch size: the floor and ingest_clicks on the same clicks, batch by batch
    (which goes first alternates), so noise on the machine falls on both alike."""
    from pappus.analytics.clicks import ingest_clicks
    from pappus.db import Database
    from pappus.kit.ids import new_id

    rows = []
    db = Database(backend.url)
    raw = RawClickWriter(backend)
    try:
        for size in settings.batch_sizes:
            events = max(size, settings.ingest_events // size * size)
            stream = ClickStream(size, 50, 10, timedelta(hours=24), events)
            before = click_counts(backend.url)
            times: dict[str, list[float]] = {"floor": [], "service": []}
            cpu_times = {"floor": 0.0, "service": 0.0}  # this process only, not PostgreSQL
            verdicts = Counter[str]()
            meter = CpuMeter(None)
            label = f"{backend.name}: ingest, batches of {size:,}"
            progress = Progress(label, events, " events")
            for number in range(events // size):
                batch = stream.batch(size)
                floor_ids = [new_id("flr") for _ in batch]
                for layer in ("floor", "service") if number % 2 == 0 else ("service", "floor"):
                    cpu_started = time.process_time()
                    started = time.perf_counter()
                    if layer == "floor":
                        raw.write(batch, floor_ids)
                    else:
                        with db.unit_of_work() as session:
                            result = ingest_clicks(session, batch)
                    times[layer].append(time.perf_counter() - started)
                    cpu_times[layer] += time.process_time() - cpu_started
                verdicts.update(valid=result.valid, bots=result.bots, dups=result.duplicates)
                progress.advance(size)
            cpu = meter.read()
            progress.done(
                f"floor {events / sum(times['floor']):,.0f}/s, service "
                f"{events / sum(times['service']):,.0f}/s"
            )
            after = click_counts(backend.url)
            check = {
                "rows_expected": 2 * events,
                "rows_stored": after["clicks"] - before["clicks"],
                "rollup_expected": events,
                "rollup_stored": after["rollup_clicks"] - before["rollup_clicks"],
            }
            for layer in ("floor", "service"):
                rows.append(ingest_row(backend.name, layer, size, events, times[layer], check, cpu))
                rows[-1]["client_cpu_us_per_event"] = round(cpu_times[layer] / events * 1e6, 1)
            rows[-1].update({k: verdicts[k] for k in ("valid", "bots", "dups")})
            rows[-1]["vs_floor"] = round(rows[-1]["rate"] / rows[-2]["rate"], 3)
    finally:
        raw.close()
        db.dispose()
    return rows


def ingest_row(
    backend: str,
    layer: str,
    size: int,
    events: int,
    times: list[float],
    check: dict[str, int],
    cpu: dict[str, Any],
) -> dict[str, Any]:
    ordered = sorted(times)

    def ms(pct: float) -> float | None:
        value = percentile(ordered, pct)
        return None if value is None else round(value * 1000, 2)

    ok = check["rows_stored"] == check["rows_expected"]
    ok = ok and check["rollup_stored"] == check["rollup_expected"]
    return {
        "backend": backend,
        "layer": layer,
        "batch": size,
        "events": events,
        "batches": len(times),
        "seconds": round(sum(times), 3),
        "rate": round(events / sum(times), 1),
        "batch_p50_ms": ms(50),
        "batch_p95_ms": ms(95),
        "batch_max_ms": ms(100),
        "check": check,
        "check_ok": ok,
        "cpu_both_layers": cpu,
    }


# -- part 3: the campaign report ------------------------------------------------------------


def report_status() -> dict[str, Any]:
    """Whether the functions parts 2 and 3 would time exist in this checkout."""
    found: dict[str, Any] = {}
    for module, name in (
        ("pappus.analytics.reports", "campaign_report"),
        ("pappus.analytics.metrics", "ingest_snapshots"),
        ("pappus.analytics.snapshots", "ingest_snapshots"),
        ("pappus.orders.service", "ingest_snapshots"),
    ):
        try:
            found[f"{module}.{name}"] = hasattr(importlib.import_module(module), name)
        except ImportError:
            found[f"{module}.{name}"] = False
    return found


# The campaign behind the report: 50 published orders with a 30-day measurement window, one
# tracking link each; events run two days past the window's end, which the report leaves out.
REPORT_ORDERS = 50
REPORT_WINDOW_DAYS = 30
REPORT_SPAN_DAYS = 32
CLICK_SHARE = 0.8  # of --events; the rest are metric snapshots
REPORT_CONVERSIONS = 50_000
REPORT_COMMENTS = 20_000
REPORT_CALLS = 20
LOAD_CHUNK = 50_000
COMMENT_PARTS = (
    *("这个精华真的很好用", "保湿效果不错", "有点贵但是值得", "用了一周皮肤变亮了", "求链接"),
    *("已下单", "敏感肌可以用吗", "味道有点奇怪", "不如兰蔻小黑瓶", "Glow serum 回购第三瓶了"),
    *("质地很清爽不粘腻", "博主皮肤好好", "价格劝退", "和雅诗兰黛比哪个好", "空瓶了再来"),
    *("so good on dry skin", "is it worth the price", "love the packaging", "过敏了慎入"),
)


@dataclass
class ReportWorld:
    campaign_id: str
    organization_id: str
    brand_token: str
    order_ids: list[str]
    link_of: dict[str, str]  # order id -> its tracking link
    published_at: datetime  # every order's publication, on the hour
    store_id: str


def report_brief(name: str) -> Any:
    from pappus.campaigns.schemas import CampaignCreate

    brief = campaign_brief_dict(name)
    brief["categories"] = ["skincare"]
    brief["timeline"] = {"measurement_days": REPORT_WINDOW_DAYS}
    return CampaignCreate.model_validate(brief)


def campaign_brief_dict(name: str) -> dict[str, Any]:
    from api_workflow import campaign_brief

    return dict(campaign_brief(name).model_dump(exclude_unset=True))


def seed_report_campaign(url: str, label: str) -> ReportWorld:
    """Brand, creators, campaign and orders through the services, with the app's clock set
    back a month so that the orders are published in the past; then a tracking link per
    order, a linked account with daily follower counts per creator, and a store."""
    from pappus.accounts import service as accounts
    from pappus.accounts.models import User
    from pappus.analytics import links
    from pappus.analytics.models import Store
    from pappus.campaigns import service as campaigns
    from pappus.connectors.models import FollowerCount, SocialAccount
    from pappus.db import Database
    from pappus.kit.clock import clock
    from pappus.orders import service as orders

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    created = hour - timedelta(days=REPORT_SPAN_DAYS + 1)
    published = created + timedelta(hours=1)
    db = Database(url)
    progress = Progress(f"{label}: seeding the campaign", 1 + 2 * REPORT_ORDERS, " rows")
    try:
        clock.freeze(created)
        try:
            brand = _seed_brand(db)
            progress.advance()
            creators = _seed_creators(db, REPORT_ORDERS, progress)
            with db.unit_of_work() as session:
                campaign = campaigns.create_campaign(
                    session, brand["principal"], report_brief("Report: Glow serum month")
                )
                campaigns.change_status(session, brand["principal"], campaign.id, "open")
                campaign_id, organization_id = str(campaign.id), str(campaign.organization_id)
                order_ids = []
                for n, creator in enumerate(creators):
                    application_id = _apply(session, creator, campaign_id, n)
                    _, order = campaigns.accept_application(
                        session, brand["principal"], application_id, None
                    )
                    order_ids.append(str(order.id))
            clock.freeze(published)
            with db.unit_of_work() as session:
                for order_id, creator in zip(order_ids, creators, strict=True):
                    _publish(session, brand, creator, order_id)
                    progress.advance()
                link_of = {}
                for n, order_id in enumerate(order_ids):
                    link, _ = links.create_link(
                        session, brand["principal"], order_id, f"https://shop.example/glow?c={n}"
                    )
                    link_of[order_id] = str(link.id)
        finally:
            clock.reset()
        with db.unit_of_work() as session:
            publications = orders.publications_of(session, order_ids)
            for n, (order_id, creator) in enumerate(zip(order_ids, creators, strict=True)):
                account = SocialAccount(
                    creator_id=creator["principal"].creator_id,
                    platform="xiaohongshu",
                    external_id=f"xhs-bench-{n}",
                    handle=f"bench{n}",
                    followers=5_000 + 137 * n,
                )
                session.add(account)
                session.flush()
                publications[order_id].social_account_id = account.id
                start = published.date() - timedelta(days=40)
                for day in range(40 + REPORT_SPAN_DAYS + 1):
                    followers = 4_000 + 137 * n + 25 * day + (40 * max(0, day - 40))
                    session.add(
                        FollowerCount(
                            social_account_id=account.id,
                            day=start + timedelta(days=day),
                            followers=followers,
                        )
                    )
            store = Store(
                organization_id=organization_id,
                name="Glow online shop",
                currency="CNY",
                secret_encrypted="-",
                created_by=brand["principal"].user_id,
            )
            session.add(store)
            session.flush()
            store_id = str(store.id)
            user = session.get(User, brand["principal"].user_id)
            assert user is not None
            token, _, _ = accounts.issue_tokens(session, user)  # at today's time, not the seed's
    finally:
        db.dispose()
    progress.done(f"{REPORT_ORDERS} published orders, {len(link_of)} links")
    return ReportWorld(campaign_id, organization_id, token, order_ids, link_of, published, store_id)


def _publish(session: Any, brand: dict[str, Any], creator: dict[str, Any], order_id: str) -> None:
    """Draft, approval and publication, as the creator and the brand do it."""
    from pappus.orders import schemas as order_schemas
    from pappus.orders import service as orders

    body = order_schemas.DraftCreate(title="Glow", body="Honest review of the serum #ad")
    draft = orders.submit_draft(session, creator["principal"], order_id, body)
    orders.approve_draft(session, brand["principal"], order_id, draft.id, None)
    post = {"post_url": f"https://www.xiaohongshu.com/explore/{order_id[-24:]}"}
    publication = order_schemas.PublicationCreate.model_validate(post)
    orders.publish(session, creator["principal"], order_id, publication, "xiaohongshu")


def _stamp(start: datetime) -> Any:
    """Microseconds after `start` as the text both backends store ('YYYY-MM-DD
    HH:MM:SS.ffffff', UTC: what SQLAlchemy writes on SQLite; PostgreSQL reads it in the
    session's UTC time zone), formatted a minute prefix at a time."""
    prefixes: dict[int, str] = {}

    def stamp(offset_us: int) -> str:
        minute, rest = divmod(offset_us, 60_000_000)
        prefix = prefixes.get(minute)
        if prefix is None:
            prefix = (start + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:")
            prefixes[minute] = prefix
        return f"{prefix}{rest // 1_000_000:02d}.{rest % 1_000_000:06d}"

    return stamp


def _order_weights(count: int, rng: random.Random) -> list[float]:
    """Cumulative weights: a few creators draw most of the traffic."""
    weights = [rng.paretovariate(1.2) for _ in range(count)]
    total, running, cumulative = sum(weights), 0.0, []
    for weight in weights:
        running += weight
        cumulative.append(running / total)
    return cumulative


def click_rows(world: ReportWorld, count: int, seed: int) -> Iterator[list[tuple[Any, ...]]]:
    """Clicks in time order, densest after publication (offset ~ span * u^2), 5% bots, a
    third of people's clicks repeat visits (duplicates), in chunks of LOAD_CHUNK."""
    from bisect import bisect_left

    rng = random.Random(seed)
    cumulative = _order_weights(len(world.order_ids), rng)
    orders = world.order_ids
    links = [world.link_of[o] for o in orders]
    stamp = _stamp(world.published_at)
    span_us = REPORT_SPAN_DAYS * 86_400_000_000
    recent: list[str] = []
    chunk: list[tuple[Any, ...]] = []
    campaign, organization = world.campaign_id, world.organization_id
    for n in range(count):
        u = n / count
        index = bisect_left(cumulative, rng.random())
        index = min(index, len(orders) - 1)
        bot = rng.random() < BOT_SHARE
        duplicate = not bot and recent and rng.random() < 0.33
        if duplicate:
            visitor = recent[rng.randrange(len(recent))]
        else:
            visitor = f"{rng.getrandbits(128):032x}"
            if not bot:
                recent.append(visitor)
                if len(recent) > 4_000:
                    del recent[:2_000]
        chunk.append(
            (
                f"clk_bench{n:014d}",
                links[index],
                orders[index],
                campaign,
                organization,
                stamp(int(span_us * u * u)),
                visitor,
                rng.choice(BOT_AGENTS if bot else PEOPLE_AGENTS),
                rng.choice(REFERRERS),
                bot,
                bool(duplicate),
            )
        )
        if len(chunk) == LOAD_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


SNAPSHOT_COLUMNS = (
    *("id", "order_id", "taken_at", "views", "likes", "comments", "saves", "shares"),
    *("clicks", "conversions", "source", "created_at"),
)


def snapshot_rows(world: ReportWorld, count: int, seed: int) -> Iterator[list[tuple[Any, ...]]]:
    """Each order's post read at an even pace over the span, its counts growing towards
    its own final reach (1 - e^-4t), order by order."""
    import math

    rng = random.Random(seed)
    orders = world.order_ids
    per_order = [count // len(orders) + (n < count % len(orders)) for n in range(len(orders))]
    stamp = _stamp(world.published_at)
    span_us = REPORT_SPAN_DAYS * 86_400_000_000
    chunk: list[tuple[Any, ...]] = []
    for n, (order_id, readings) in enumerate(zip(orders, per_order, strict=True)):
        reach = rng.randint(20_000, 800_000)
        like_rate, save_rate = rng.uniform(0.02, 0.08), rng.uniform(0.005, 0.03)
        step = span_us // max(1, readings)
        for k in range(readings):
            grown = 1 - math.exp(-4 * (k + 1) / readings)
            views = int(reach * grown)
            at = stamp(k * step + 1_000 * n + 500)
            chunk.append(
                (
                    *(f"met_bench{n:03d}{k:09d}", order_id, at, views, int(views * like_rate)),
                    *(int(views * 0.004), int(views * save_rate), int(views * 0.002)),
                    *(0, 0, "connector", at),
                )
            )
            if len(chunk) == LOAD_CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


CONVERSION_COLUMNS = (
    *("id", "store_id", "organization_id", "external_order_id", "occurred_at", "currency"),
    *("amount", "refunded_amount", "status", "order_id", "campaign_id", "attribution"),
    *("evidence", "payload_sha256", "created_at", "updated_at", "voided_at"),
)


def conversion_rows(world: ReportWorld, count: int, seed: int) -> list[tuple[Any, ...]]:
    """Store orders over the span: 90% attributed (by click or coupon), 5% unattributed,
    5% voided; one in ten attributed ones partly refunded."""
    from bisect import bisect_left

    rng = random.Random(seed)
    cumulative = _order_weights(len(world.order_ids), rng)
    stamp = _stamp(world.published_at)
    span_us = REPORT_SPAN_DAYS * 86_400_000_000
    rows = []
    for n in range(count):
        at = stamp(int(span_us * (n / count) ** 2))
        roll = rng.random()
        status = "attributed" if roll < 0.9 else "unattributed" if roll < 0.95 else "voided"
        order = world.order_ids[min(bisect_left(cumulative, rng.random()), REPORT_ORDERS - 1)]
        amount = rng.randint(5_000, 60_000)
        refunded = rng.randint(0, amount // 2) if status == "attributed" and n % 10 == 0 else 0
        attributed = status != "unattributed"
        rows.append(
            (
                *(f"cnv_bench{n:012d}", world.store_id, world.organization_id, f"so-{n}"),
                *(at, "CNY", amount, refunded, status),
                *(order if attributed else None, world.campaign_id if attributed else None),
                rng.choice(("click", "coupon")) if attributed else None,
                "{}",
                hashlib.sha256(str(n).encode()).hexdigest(),
                *(at, at, at if status == "voided" else None),
            )
        )
    return rows


COMMENT_COLUMNS = (
    *("id", "order_id", "campaign_id", "external_id", "author_hash", "text", "posted_at"),
    *("sentiment", "sentiment_score", "model_version", "fetched_at"),
)
WORD_COLUMNS = ("comment_id", "word", "order_id", "sentiment")


def word_rows(comments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The comments' words, as the app stores them when it reads a comment (comment_words)."""
    from pappus.analytics.comments import words_of

    words_by_text: dict[str, set[str]] = {}  # segmented once per distinct text
    rows = []
    for comment in comments:
        comment_id, order_id, text, sentiment = comment[0], comment[1], comment[5], comment[7]
        if text not in words_by_text:
            words_by_text[text] = words_of(text)
        rows.extend((comment_id, word, order_id, sentiment) for word in words_by_text[text])
    return rows


def comment_rows(world: ReportWorld, count: int, seed: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    stamp = _stamp(world.published_at)
    span_us = REPORT_SPAN_DAYS * 86_400_000_000
    rows = []
    for n in range(count):
        text = "\uff0c".join(rng.sample(COMMENT_PARTS, rng.randint(1, 3)))
        roll = rng.random()
        sentiment = "positive" if roll < 0.55 else "neutral" if roll < 0.85 else "negative"
        score = {"positive": 0.8, "neutral": 0.0, "negative": -0.7}[sentiment]
        at = stamp(int(span_us * (n / count) ** 2))
        rows.append(
            (
                *(f"cmt_bench{n:012d}", world.order_ids[n % REPORT_ORDERS], world.campaign_id),
                *(f"c{n}", f"{rng.getrandbits(128):032x}", text, at, sentiment),
                *(round(score + rng.uniform(-0.2, 0.2), 3), "bench-lexicon-1", at),
            )
        )
    return rows


class RawDatabase:
    """sqlite3 or psycopg, for the bulk load, the checks and the raw SQL floor: SQL is
    written with `?` and given to psycopg with `%s`."""

    def __init__(self, backend: Backend) -> None:
        self.sqlite = backend.name == "sqlite"
        if self.sqlite:
            path = backend.url.removeprefix("sqlite:///")
            self.connection: Any = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.connection.execute("PRAGMA journal_mode=WAL")
        else:
            import psycopg

            self.connection = psycopg.connect(libpq_url(backend.url), autocommit=True)
            self.connection.execute("SET TIME ZONE 'UTC'")

    def sql(self, text: str) -> str:
        return text if self.sqlite else text.replace("?", "%s")

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.connection.execute(self.sql(text), params).fetchall())

    def scalar(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(text, params)[0][0]

    def execute(self, text: str, params: Sequence[Any] = ()) -> None:
        self.connection.execute(self.sql(text), params)

    def load(self, table: str, columns: Sequence[str], chunk: list[tuple[Any, ...]]) -> None:
        """One chunk: COPY FROM STDIN on PostgreSQL, one executemany transaction on SQLite."""
        names = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", chunk)
            self.connection.execute("COMMIT")
            return
        sql = f"COPY {table} ({names}) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in chunk:
                copy.write_row(row)

    def close(self) -> None:
        self.connection.close()


def load_report_events(backend: Backend, world: ReportWorld, events: int) -> dict[str, Any]:
    """Bulk-load the events, then fill `click_rollups` and `metric_daily` from them in SQL,
    as ingest_clicks and the snapshot listener would have: raw inserts fire neither."""
    clicks = int(events * CLICK_SHARE)
    snapshots = events - clicks
    raw = RawDatabase(backend)
    label = f"{backend.name}: loading events"
    progress = Progress(label, events + REPORT_CONVERSIONS + REPORT_COMMENTS, " rows")
    started = time.perf_counter()
    try:
        if raw.sqlite:
            # For the load only: the app's own connections set synchronous=NORMAL again.
            raw.execute("PRAGMA synchronous=OFF")
            raw.execute("PRAGMA cache_size=-1000000")
        for chunk in click_rows(world, clicks, 31):
            raw.load("clicks", CLICK_COLUMNS, chunk)
            progress.advance(len(chunk))
        for chunk in snapshot_rows(world, snapshots, 32):
            raw.load("metric_snapshots", SNAPSHOT_COLUMNS, chunk)
            progress.advance(len(chunk))
        raw.load("conversions", CONVERSION_COLUMNS, conversion_rows(world, REPORT_CONVERSIONS, 33))
        progress.advance(REPORT_CONVERSIONS)
        comments = comment_rows(world, REPORT_COMMENTS, 34)
        raw.load("post_comments", COMMENT_COLUMNS, comments)
        raw.load("comment_words", WORD_COLUMNS, word_rows(comments))
        progress.advance(REPORT_COMMENTS)
        loaded = time.perf_counter() - started
        progress.done(f"{(events + REPORT_CONVERSIONS + REPORT_COMMENTS) / loaded:,.0f} rows/s")
        rolled = time.perf_counter()
        say(f"  {backend.name}: filling click_rollups and metric_daily from the raw rows")
        fill_rollups(raw, world)
        rollup_seconds = time.perf_counter() - rolled
        if not raw.sqlite:
            raw.execute("ANALYZE")  # what autovacuum does soon after a bulk load
        else:
            raw.execute("PRAGMA synchronous=NORMAL")
        total = time.perf_counter() - started
        say(
            f"  {backend.name}: {events:,} events ({clicks:,} clicks, {snapshots:,} snapshots) "
            f"+ {REPORT_CONVERSIONS:,} conversions + {REPORT_COMMENTS:,} comments loaded in "
            f"{loaded:.0f} s ({events / loaded:,.0f} events/s), rollups in "
            f"{rollup_seconds:.0f} s"
        )
        return {
            "events": events,
            "clicks": clicks,
            "snapshots": snapshots,
            "conversions": REPORT_CONVERSIONS,
            "comments": REPORT_COMMENTS,
            "load_s": round(loaded, 1),
            "load_events_per_s": round(events / loaded),
            "rollups_s": round(rollup_seconds, 1),
            "total_s": round(total, 1),
        }
    finally:
        raw.close()


def fill_rollups(raw: RawDatabase, world: ReportWorld) -> None:
    marks = ", ".join("?" for _ in world.order_ids)
    if raw.sqlite:
        hour = "strftime('%Y-%m-%d %H:00:00.000000', at)"
        day = "date(taken_at)"
        counts = "sum(NOT is_bot AND NOT is_duplicate), sum(is_bot), sum(is_duplicate)"
        # SQLite's bare columns come from the row where max() found its value.
        latest = (
            f"SELECT order_id, {day}, max(taken_at), views, likes, comments, saves, shares "
            f"FROM metric_snapshots WHERE order_id IN ({marks}) GROUP BY order_id, {day}"
        )
    else:
        hour = "date_trunc('hour', at)"
        day = "(taken_at AT TIME ZONE 'UTC')::date"
        counts = (
            "count(*) FILTER (WHERE NOT is_bot AND NOT is_duplicate), "
            "count(*) FILTER (WHERE is_bot), count(*) FILTER (WHERE is_duplicate)"
        )
        latest = (
            f"SELECT DISTINCT ON (order_id, {day}) order_id, {day}, taken_at, views, likes, "
            f"comments, saves, shares FROM metric_snapshots WHERE order_id IN ({marks}) "
            f"ORDER BY order_id, {day}, taken_at DESC"
        )
    if raw.sqlite:
        raw.execute("BEGIN IMMEDIATE")
    raw.execute(
        "INSERT INTO click_rollups (link_id, hour, order_id, campaign_id, clicks, "
        f"valid_clicks, bot_clicks, duplicate_clicks) SELECT link_id, {hour}, min(order_id), "
        f"min(campaign_id), count(*), {counts} FROM clicks WHERE campaign_id = ? "
        f"GROUP BY link_id, {hour}",
        (world.campaign_id,),
    )
    raw.execute(
        "INSERT INTO metric_daily (order_id, day, taken_at, views, likes, comments, saves, "
        f"shares) {latest}",
        world.order_ids,
    )
    if raw.sqlite:
        raw.execute("COMMIT")


# What the report needs, as plain SQL: the floor it is compared with. The in-window sums are
# done in SQL here (the report fetches the rollup rows and sums them in Python).
FLOOR_QUERIES = (
    "SELECT * FROM orders WHERE campaign_id = ? ORDER BY id",
    "SELECT p.* FROM publications p JOIN orders o ON o.id = p.order_id WHERE o.campaign_id = ?",
    "SELECT c.id, c.followers FROM creator_profiles c JOIN orders o ON o.creator_id = c.id "
    "WHERE o.campaign_id = ?",
    "SELECT f.social_account_id, f.day, f.followers FROM social_follower_counts f "
    "JOIN publications p ON p.social_account_id = f.social_account_id "
    "JOIN orders o ON o.id = p.order_id WHERE o.campaign_id = ?",
    "SELECT order_id, sum(clicks), sum(valid_clicks), sum(bot_clicks), sum(duplicate_clicks) "
    "FROM click_rollups WHERE campaign_id = ? GROUP BY order_id",
    "SELECT r.order_id, sum(r.valid_clicks) FROM click_rollups r "
    "JOIN orders o ON o.id = r.order_id JOIN publications p ON p.order_id = o.id "
    "WHERE r.campaign_id = ? AND r.hour >= p.published_at AND r.hour < o.measurement_ends_at "
    "GROUP BY r.order_id",
    "SELECT hour, sum(clicks), sum(valid_clicks) FROM click_rollups WHERE campaign_id = ? "
    "GROUP BY hour ORDER BY hour",
    "SELECT o.id, (SELECT m.id FROM metric_snapshots m WHERE m.order_id = o.id "
    "AND m.taken_at <= o.measurement_ends_at ORDER BY m.taken_at DESC LIMIT 1) "
    "FROM orders o WHERE o.campaign_id = ?",
    "SELECT d.* FROM metric_daily d JOIN orders o ON o.id = d.order_id WHERE o.campaign_id = ? "
    "ORDER BY d.order_id, d.day",
    "SELECT c.order_id, count(*), sum(c.amount - c.refunded_amount) FROM conversions c "
    "JOIN orders o ON o.id = c.order_id WHERE c.campaign_id = ? AND c.status = 'attributed' "
    "AND c.occurred_at <= o.measurement_ends_at GROUP BY c.order_id",
    "SELECT occurred_at, amount - refunded_amount FROM conversions "
    "WHERE campaign_id = ? AND status = 'attributed' ORDER BY occurred_at",
    "SELECT word, count(*) FROM comment_words WHERE order_id IN "
    "(SELECT id FROM orders WHERE campaign_id = ?) GROUP BY word ORDER BY 2 DESC LIMIT 20",
)
FLOOR_LAST = "SELECT groups FROM benchmark_sets ORDER BY computed_at DESC LIMIT 1"


def floor_call(raw: RawDatabase, campaign_id: str) -> None:
    if raw.sqlite:
        raw.execute("BEGIN")
    for query in FLOOR_QUERIES:
        raw.rows(query, (campaign_id,))
    raw.rows(FLOOR_LAST)
    if raw.sqlite:
        raw.execute("COMMIT")


def raw_checks(raw: RawDatabase, world: ReportWorld) -> dict[str, int]:
    """The figures the report must agree with, from the raw rows. Publication and window end
    are on the hour, so comparing each click's time equals comparing its hour's."""
    campaign = (world.campaign_id,)
    return {
        "clicks_rows": raw.scalar("SELECT count(*) FROM clicks WHERE campaign_id = ?", campaign),
        "rollup_clicks": raw.scalar(
            "SELECT coalesce(sum(clicks), 0) FROM click_rollups WHERE campaign_id = ?", campaign
        ),
        "valid_clicks": raw.scalar(
            "SELECT count(*) FROM clicks WHERE campaign_id = ? AND NOT is_bot AND NOT is_duplicate",
            campaign,
        ),
        "valid_clicks_in_window": raw.scalar(
            "SELECT count(*) FROM clicks c JOIN orders o ON o.id = c.order_id "
            "JOIN publications p ON p.order_id = o.id WHERE c.campaign_id = ? "
            "AND NOT c.is_bot AND NOT c.is_duplicate AND c.at >= p.published_at "
            "AND c.at < o.measurement_ends_at",
            campaign,
        ),
        "views_latest_in_window": raw.scalar(
            "SELECT coalesce(sum((SELECT m.views FROM metric_snapshots m WHERE m.order_id = o.id "
            "AND m.taken_at <= o.measurement_ends_at ORDER BY m.taken_at DESC LIMIT 1)), 0) "
            "FROM orders o WHERE o.campaign_id = ?",
            campaign,
        ),
        "snapshot_rows": raw.scalar(
            "SELECT count(*) FROM metric_snapshots m JOIN orders o ON o.id = m.order_id "
            "WHERE o.campaign_id = ?",
            campaign,
        ),
    }


def report_figures(report: dict[str, Any]) -> dict[str, int]:
    totals = report["totals"]["CNY"]
    return {
        "valid_clicks": report["clicks_quality"]["valid_clicks"],
        "valid_clicks_in_window": totals["clicks"],
        "views_latest_in_window": totals["views"],
    }


def timed(call: Any, count: int, label: str) -> list[float]:
    times = []
    progress = Progress(label, count, " calls", transient=True)
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
        progress.advance()
    progress.done()
    return times


def timing_row(backend: str, call: str, times: list[float], **fields: Any) -> dict[str, Any]:
    ordered = sorted(times)

    def ms(pct: float) -> float | None:
        value = percentile(ordered, pct)
        return None if value is None else round(value * 1000, 1)

    return {
        "backend": backend,
        "call": call,
        "calls": len(times),
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "max_ms": ms(100),
        **fields,
    }


def profile_call(call: Any, top: int = 15) -> list[dict[str, Any]]:
    """One call under cProfile: the functions with the most time of their own, and the
    pappus functions with the most time under them."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(call)
    stats = pstats.Stats(profiler)
    entries = [
        {
            "function": f"{Path(file).name}:{line}({name})",
            "pappus": "pappus" in file,
            "calls": calls,
            "own_ms": round(own * 1000, 1),
            "cumulative_ms": round(cumulative * 1000, 1),
        }
        for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    by_own = sorted(entries, key=lambda e: -e["own_ms"])[:top]
    by_cumulative = sorted((e for e in entries if e["pappus"]), key=lambda e: -e["cumulative_ms"])[
        :top
    ]
    return [{"sort": "own", **e} for e in by_own] + [
        {"sort": "cumulative", **e} for e in by_cumulative
    ]


def report_rows(
    backend: Backend, settings: RunSettings, workdir: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Seed, load, check, then time the floor, the report without and with a stored
    benchmark set, and the HTTP route (JSON and xlsx)."""
    from pappus.accounts.principal import Principal
    from pappus.analytics import reports
    from pappus.db import Database

    world = seed_report_campaign(backend.url, backend.name)
    load = load_report_events(backend, world, settings.report_events)
    calls = settings.report_calls
    staff = Principal(kind="staff", user_id="usr_bench", staff_role="admin")
    db = Database(backend.url)
    raw = RawDatabase(backend)
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"load": load}
    try:
        expected = raw_checks(raw, world)

        def service_call() -> dict[str, Any]:
            with db.unit_of_work(write=False) as session:
                return reports.campaign_report(session, staff, world.campaign_id)

        found = report_figures(service_call())  # also the first call, not timed
        check = {
            "rollups": (expected["rollup_clicks"], expected["clicks_rows"]),
            **{k: (found[k], expected[k]) for k in found},
        }
        check_ok = all(a == b for a, b in check.values())
        extra["check"] = {"raw": expected, "report": found, "ok": check_ok}
        name = backend.name
        floor = timed(lambda: floor_call(raw, world.campaign_id), calls, f"{name}: floor")
        rows.append(timing_row(name, "raw SQL floor (14 queries)", floor))
        cold = timed(service_call, calls, f"{name}: report, cold")
        rows.append(timing_row(name, "campaign_report, no stored benchmarks", cold))
        with db.unit_of_work() as session:
            stored = reports.store_benchmarks(session)
            extra["benchmark_set_orders"] = stored.orders
        warm = timed(service_call, calls, f"{name}: report, warm")
        rows.append(timing_row(name, "campaign_report, stored benchmarks", warm))
        rows.extend(http_rows(backend, world, workdir, calls, found))
        floor_p50 = rows[0]["p50_ms"]
        for row in rows:
            row["vs_floor"] = round(row["p50_ms"] / floor_p50, 1) if floor_p50 else None
            row["check"] = "" if "floor" in row["call"] else row.get("check", check_ok)
        if (rows[2]["p50_ms"] or 0) > REPORT_TARGET_MS / 2:  # where the time goes, near the target
            extra["profile_warm"] = profile_call(service_call)
    finally:
        raw.close()
        db.dispose()
    return rows, extra


def http_rows(
    backend: Backend, world: ReportWorld, workdir: Path, calls: int, found: dict[str, int]
) -> list[dict[str, Any]]:
    """GET /campaigns/{id}/report as the brand, JSON and xlsx, through the real app."""
    env = server_env(backend.url, workdir)
    path = f"{API}/campaigns/{world.campaign_id}/report"
    rows = []
    with (
        serve("pappus.app:create_app", env, workdir, "/healthz", "report") as server,
        httpx.Client(
            base_url=server.base_url, headers=bearer(world.brand_token), timeout=120.0
        ) as client,
    ):
        for query, label in (("", "GET .../report (JSON)"), ("?format=xlsx", "... ?format=xlsx")):
            sizes: list[int] = []
            checks: list[bool] = []

            def call(
                query: str = query, sizes: list[int] = sizes, checks: list[bool] = checks
            ) -> None:
                response = client.get(path + query)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}{query}: {response.status_code} {response.text}")
                sizes.append(len(response.content))
                if not query:
                    checks.append(report_figures(response.json()) == found)

            call()  # the first: imports and caches, not timed
            times = timed(call, calls, f"{backend.name}: {label}")
            rows.append(
                timing_row(
                    backend.name,
                    label,
                    times,
                    bytes=sizes[-1],
                    check=all(checks) if checks else "",
                )
            )
        if server.logged_errors():
            raise RuntimeError(f"the report server logged errors: {server.log_tail()}")
    return rows


def report_table(rows: list[dict[str, Any]]) -> str:
    header = ("backend", "call", "calls", "p50 ms", "p95 ms", "max ms", "vs floor", "check")
    lines = [
        (
            row["backend"],
            row["call"],
            str(row["calls"]),
            *(fmt_ms(row[k]) for k in ("p50_ms", "p95_ms", "max_ms")),
            f"{row['vs_floor']:.1f}x" if row.get("vs_floor") is not None else "",
            "" if row["check"] == "" else ("ok" if row["check"] else "MISMATCH"),
        )
        for row in rows
    ]
    return render_table(header, lines, left=2)


# -- report ---------------------------------------------------------------------------------


def fmt_check(row: dict[str, Any]) -> str:
    check = row.get("click_check")
    if not check:
        return ""
    return f"{check['stored']:,}/{check['redirects_302']:,}"


def redirect_table(rows: list[dict[str, Any]]) -> str:
    header = (
        *("backend", "scenario", "workers", "load", "req/s", "p50 ms", "p95 ms", "p99 ms"),
        *("max ms", "errors", "vs hello", "vs healthz", "clicks stored/302s", "lost"),
        *("srv cpu us/req", "cpu% srv/gen/pg/other"),
    )
    lines = []
    for row in rows:
        check = row.get("click_check")
        lines.append(
            (
                row["backend"],
                row["scenario"],
                str(row["workers"]),
                row["load"],
                f"{row['rate']:,.0f}",
                *(fmt_ms(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                f"{row['errors']:,}",
                f"{row['vs_hello']:.2f}x" if row.get("vs_hello") is not None else "",
                f"{row['vs_healthz']:.2f}x" if row.get("vs_healthz") is not None else "",
                fmt_check(row),
                f"{check['lost']:,}" if check else "",
                fmt_ms(row.get("server_cpu_us_per_request")),
                fmt_cpu(row.get("cpu")),
            )
        )
    return render_table(header, lines, left=2)


def ingest_table(rows: list[dict[str, Any]]) -> str:
    header = (
        *("backend", "layer", "batch", "events", "events/s", "batch p50 ms", "p95 ms"),
        *("max ms", "vs floor", "cpu us/event", "valid", "bots", "dups", "rows ok"),
    )
    lines = [
        (
            row["backend"],
            "ingest_clicks (service)" if row["layer"] == "service" else "raw executemany (floor)",
            f"{row['batch']:,}",
            f"{row['events']:,}",
            f"{row['rate']:,.0f}",
            *(fmt_ms(row[k]) for k in ("batch_p50_ms", "batch_p95_ms", "batch_max_ms")),
            f"{row['vs_floor']:.2f}x" if row.get("vs_floor") is not None else "",
            f"{row['client_cpu_us_per_event']:.1f}",
            *(f"{row[k]:,}" if k in row else "" for k in ("valid", "bots", "dups")),
            "yes" if row["check_ok"] else "NO",
        )
        for row in rows
    ]
    return render_table(header, lines, left=2)


def targets(report: dict[str, Any]) -> list[str]:
    lines = [
        f"floor: raw ASGI hello, {row['workers']} worker(s), {row['load']}: "
        f"{row['rate']:,.0f} req/s, p99 {fmt_ms(row['p99_ms'])} ms"
        for row in report["redirect"]
        if row["backend"] == "-"
    ]
    redirect = [r for r in report["redirect"] if r["scenario"] == "GET /r/{code}"]
    for row in redirect:
        where = f"{row['backend']}, {row['workers']} worker(s)"
        if row["load"] == "closed":
            verdict = "PASS" if row["rate"] >= REDIRECT_TARGET_RATE else "MISS"
            lines.append(
                f"redirect can answer >= 3,000 req/s (closed loop): {verdict} ({where}: "
                f"{row['rate']:,.0f} req/s, p99 {fmt_ms(row['p99_ms'])} ms with 64 waiting)"
            )
            continue
        kept = row["rate"] >= 0.98 * (row["offered_rate"] or 0)
        fast = (row["p99_ms"] or 1e9) < REDIRECT_TARGET_P99_MS
        verdict = "PASS" if kept and fast else "MISS"
        lines.append(
            f"redirect at {row['offered_rate']:,.0f} req/s offered, p99 < 20 ms: {verdict} "
            f"({where}: {row['rate']:,.0f} req/s answered, p99 {fmt_ms(row['p99_ms'])} ms)"
        )
    for row in report["ingest"]:
        if row["layer"] == "service":
            verdict = "PASS" if row["rate"] >= INGEST_TARGET_RATE else "MISS"
            lines.append(
                f"ingest_clicks >= 20,000 events/s: {verdict} ({row['backend']}, batches of "
                f"{row['batch']:,}: {row['rate']:,.0f} events/s)"
            )
    for row in report["report_part"]["rows"]:
        if row["call"] == "campaign_report, stored benchmarks":
            verdict = "PASS" if (row["p50_ms"] or 1e9) < REPORT_TARGET_MS else "MISS"
            lines.append(
                f"campaign report < 1 s over {report['settings']['report_events']:,} events: "
                f"{verdict} ({row['backend']}: p50 {fmt_ms(row['p50_ms'])} ms, p95 "
                f"{fmt_ms(row['p95_ms'])} ms, stored benchmarks)"
            )
    return lines


def report_notes(part: dict[str, Any]) -> list[str]:
    """The load, the checks against raw SQL, and where a slow report spent its time."""
    lines = []
    for name, extra in part["backends"].items():
        load, check = extra["load"], extra["check"]
        lines.append(
            f"{name}: loaded {load['events']:,} events ({load['clicks']:,} clicks, "
            f"{load['snapshots']:,} snapshots) in {load['load_s']:.0f} s "
            f"({load['load_events_per_s']:,} events/s), rollups in {load['rollups_s']:.0f} s"
        )
        pairs = [("rollup clicks = click rows", "rollup_clicks", "clicks_rows")]
        pairs += [(f"report {k} = raw SQL", k, k) for k in check["report"]]
        for label, mine, theirs in pairs:
            value = check["raw"][mine] if mine == "rollup_clicks" else check["report"][mine]
            other = check["raw"][theirs]
            verdict = "ok" if value == other else "MISMATCH"
            lines.append(f"  check {label}: {value:,} vs {other:,} {verdict}")
        profile = extra.get("profile_warm", [])
        for sort in ("own", "cumulative"):
            for entry in [e for e in profile if e["sort"] == sort][:8]:
                lines.append(
                    f"  warm call profile ({sort}): {entry[sort + '_ms']:>8.1f} ms "
                    f"{entry['calls']:>8} calls {entry['function']}"
                )
    return lines


def failures(report: dict[str, Any]) -> list[str]:
    bad = []
    for row in report["redirect"]:
        check = row.get("click_check")
        name = f"{row['backend']} {row['scenario']} {row['workers']}w {row['load']}"
        if row["errors"] or row.get("server_log_errors"):
            bad.append(
                f"{name}: {row['errors']} errors, {row.get('server_log_errors', 0)} server "
                f"log errors; examples: {row['error_examples']}"
            )
        if check and (check["lost"] or check["in_rollups"] != check["stored"]):
            bad.append(f"{name}: clicks lost or not rolled up: {check}")
    for name, extra in report["report_part"]["backends"].items():
        if not extra["check"]["ok"]:
            bad.append(f"{name} campaign report: figures differ from raw SQL: {extra['check']}")
    for row in report["report_part"]["rows"]:
        if row["check"] is False:
            bad.append(f"{row['backend']} {row['call']}: figures differ from the service's")
    for row in report["ingest"]:
        if not row["check_ok"]:
            bad.append(f"{row['backend']} ingest {row['batch']}: row counts {row['check']}")
    return bad


def write_report(report: dict[str, Any], out: Path) -> int:
    print()
    if report["redirect"]:
        print(table_title("Redirect"))
        print(redirect_table(report["redirect"]))
        print()
    if report["ingest"]:
        print(table_title("Ingestion"))
        print(ingest_table(report["ingest"]))
        print()
    if report["report_part"]["rows"]:
        print(table_title("Campaign report"))
        print(report_table(report["report_part"]["rows"]))
        print()
        for line in report_notes(report["report_part"]):
            print(line)
        print()
    for line in targets(report):
        print(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nJSON:  {out}")
    chart = out.with_suffix(".png")
    if draw_chart(report, chart):
        print(f"chart: {chart}")
    print(f"total time: {report['runtime_s']:.0f} s")
    bad = failures(report)
    for line in bad:
        say(f"!!! FAILURE {line}")
    busy = [r for r in report["redirect"] if ((r.get("cpu") or {}).get("other_pct") or 0) > 25.0]
    if busy:
        say(
            f"!! other processes used more than {OTHER_CPU_WARNING:.0f}% of a core during "
            f"{len(busy)} redirect phase(s) (the cpu% 'other' column): those rows are low"
        )
    return 1 if bad else 0


def table_title(name: str) -> str:
    return f"-- {name} " + "-" * (60 - len(name))


def source_digest() -> str:
    import pappus.analytics

    digest = hashlib.sha256()
    for path in sorted(Path(pappus.analytics.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def build_report(
    settings: RunSettings,
    backends: list[Backend],
    redirect: list[dict[str, Any]],
    ingest: list[dict[str, Any]],
    load_average: list[float] | None,
    started: float,
) -> dict[str, Any]:
    import pappus

    found = report_status()
    machine = machine_info()
    machine["load_average_at_start"] = load_average
    machine["backends"] = {b.name: b.version for b in backends}
    machine["packages"] = package_versions(PACKAGES)
    return {
        "benchmark": "analytics",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python bench/analytics.py", *sys.argv[1:]]),
        "pappus_source": str(Path(pappus.__file__).resolve().parent),
        "analytics_source_digest": source_digest(),
        "runtime_s": round(time.monotonic() - started, 1),
        "settings": {
            "parts": settings.parts,
            "backends": settings.backends,
            "workers": settings.workers,
            "duration": settings.duration,
            "warmup_s": WARMUP_SECONDS,
            "connections": settings.connections,
            "offered_rate": settings.rate,
            "links": settings.links,
            "orders": settings.orders,
            "batch_sizes": settings.batch_sizes,
            "ingest_events": settings.ingest_events,
            "report_events": settings.report_events,
            "report_calls": settings.report_calls,
            "click_flush_ms": settings.flush_ms or "500 (the app's default)",
            "quick": settings.quick,
            "uvicorn": "--factory --no-access-log, --http auto/--loop auto (httptools, uvloop)",
        },
        "machine": machine,
        "functions_found": found,
        "redirect": redirect,
        "ingest": ingest,
        "report_part": {"rows": [], "backends": {}},
    }


# -- command line ---------------------------------------------------------------------------


def split_list(text: str, allowed: Sequence[str], what: str, parser: Any) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    unknown = sorted(set(items) - set(allowed))
    if unknown or not items:
        parser.error(f"unknown {what}: {', '.join(unknown) or 'none given'}")
    return items


def parse_args(argv: list[str] | None = None) -> RunSettings:
    parser = argparse.ArgumentParser(
        prog="python bench/analytics.py",
        description=(
            "Benchmark Pappus analytics on SQLite and PostgreSQL: the tracking redirect\n"
            "GET /r/{code} under uvicorn (beside a raw-ASGI hello and GET /healthz, with a\n"
            "check that every 302 became a stored click), click ingestion in batches (beside\n"
            "a raw executemany floor) and the campaign report when it exists. Prints tables,\n"
            "writes JSON and a PNG chart. Only 127.0.0.1 is contacted. See docs/benchmarks.md."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--parts", default="redirect,ingest,report", help="any of %(default)s")
    add("--backends", default="sqlite,postgresql", help="any of %(default)s")
    add("--workers", default="1,2", help="uvicorn worker counts, one cell each (default 1,2)")
    add("--duration", type=float, default=15.0, help="seconds per redirect cell (default 15)")
    add("--connections", type=int, default=64, help="keep-alive connections (default 64)")
    add("--rate", type=float, default=3000.0, help="open-loop offered req/s (default 3000)")
    add("--links", type=int, default=50, help="tracking links (default 50)")
    add("--orders", type=int, default=10, help="orders the links are spread over (default 10)")
    add("--batch-sizes", default="1000,5000", help="ingest batch sizes (default 1000,5000)")
    add(
        "--ingest-events",
        type=int,
        default=200_000,
        help="events per batch size and layer (default 200,000)",
    )
    add(
        "--events",
        type=int,
        default=10_000_000,
        help="events behind the campaign report (default 10,000,000)",
    )
    add(
        "--report-calls",
        type=int,
        default=REPORT_CALLS,
        help="timed calls per report variant and of its floor (default 20)",
    )
    add("--postgres-url", default=DEFAULT_POSTGRES_URL, help="default: %(default)s")
    add("--out", type=Path, default=DEFAULT_OUT, help="JSON (default bench/results/...json)")
    add(
        "--flush-ms",
        type=int,
        default=None,
        help="PAPPUS_CLICK_FLUSH_MS for the redirect's servers (default: the app's, 500)",
    )
    add(
        "--redis-url",
        default=None,
        help="serve the redirect as production does: servers hand their clicks to Redis as jobs "
        "and a `pappus worker` (started per cell) writes them; e.g. redis://127.0.0.1:6379/15",
    )
    add("--quick", action="store_true", help="a smoke run: 3 s cells, 20,000 events")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 3.0)
        args.ingest_events = min(args.ingest_events, 20_000)
        args.events = min(args.events, 200_000)
    try:
        workers = [int(w) for w in args.workers.split(",") if w.strip()]
        sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--workers and --batch-sizes take comma-separated integers")
    numbers = (args.duration, args.connections, args.rate, args.links, args.orders)
    if min(numbers) <= 0 or not workers or min(workers) < 1 or not sizes or min(sizes) < 1:
        parser.error("counts, sizes, durations and rates must be positive")
    settings = RunSettings(
        parts=split_list(args.parts, PARTS, "part(s)", parser),
        backends=split_list(args.backends, BACKENDS, "backend(s)", parser),
        workers=workers,
        duration=args.duration,
        connections=args.connections,
        rate=args.rate,
        links=args.links,
        orders=min(args.orders, args.links),
        batch_sizes=sizes,
        ingest_events=args.ingest_events,
        report_events=args.events,
        report_calls=max(1, args.report_calls),
        postgres_url=args.postgres_url,
        quick=args.quick,
        out=args.out,
        flush_ms=args.flush_ms,
        redis_url=args.redis_url,
    )
    return settings


@contextmanager
def open_backend(
    name: str, settings: RunSettings, workdir: Path, sqlite_name: str = "analytics.db"
) -> Iterator[Backend]:
    if name == "sqlite":
        with sqlite_backend(workdir, sqlite_name) as backend:
            yield backend
    else:
        with postgres_backend(settings.postgres_url) as backend:
            yield backend


def _stop_on_sigterm(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # so every finally block runs


def run_backend(
    backend: Backend, settings: RunSettings, workdir: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from pappus.migrate import upgrade

    say(f"\n== {backend.name} {backend.version} ==")
    upgrade(backend.url)
    redirect: list[dict[str, Any]] = []
    ingest: list[dict[str, Any]] = []
    if "redirect" in settings.parts:
        seeded = seed_orders(backend.url, settings.orders, backend.name)
        env = server_env(backend.url, workdir)
        with serve("pappus.app:create_app", env, workdir, "/healthz", "links") as server:
            create_links(server.base_url, seeded, settings.links)
        say(f"  {len(seeded.codes)} tracking links made through POST {API}/orders/{{id}}/links")
        redirect = redirect_rows(backend, seeded, settings, workdir)
    if "ingest" in settings.parts:
        ingest = ingest_rows(backend, settings)
    return redirect, ingest


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    load_average = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if load_average and load_average[0] > 0.5:
        say(f"!! the machine is busy before the run (load average {load_average[0]:.1f})")
    workdir = Path(tempfile.mkdtemp(prefix="pappus-bench-analytics-"))
    # Seeding runs the services here; the deposit enqueues a job: keep its queue in the temp
    # dir (set before anything imports pappus and reads the settings).
    os.environ["PAPPUS_JOBS_SQLITE_PATH"] = str(workdir / "seed-jobs.db")
    redirect: list[dict[str, Any]] = []
    ingest: list[dict[str, Any]] = []
    backends: list[Backend] = []
    report_part: dict[str, Any] = {"rows": [], "backends": {}}
    started = time.monotonic()
    try:
        if "redirect" in settings.parts:
            redirect += hello_rows(settings, workdir)
        for name in settings.backends:
            if {"redirect", "ingest"} & set(settings.parts):
                with ExitStack() as stack:
                    backend = stack.enter_context(open_backend(name, settings, workdir))
                    backends.append(backend)
                    more_redirect, more_ingest = run_backend(backend, settings, workdir)
                    redirect += more_redirect
                    ingest += more_ingest
            if "report" in settings.parts:
                # Its own database: ten million events, and a brand of its own.
                with open_backend(name, settings, workdir, "report.db") as backend:
                    if all(b.name != name for b in backends):
                        backends.append(backend)
                    say(f"\n== {backend.name} {backend.version}: the campaign report ==")
                    from pappus.migrate import upgrade

                    upgrade(backend.url)
                    rows, extra = report_rows(backend, settings, workdir)
                    report_part["rows"] += rows
                    report_part["backends"][name] = extra
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    add_ratios(redirect)
    report = build_report(settings, backends, redirect, ingest, load_average, started)
    report["report_part"] = report_part
    return write_report(report, settings.out)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted: the servers were stopped and the databases dropped")
        sys.exit(130)
