"""API workflow benchmark: the real Pappus app served by uvicorn, on SQLite and on PostgreSQL.

For each backend the script migrates a fresh database (a temp SQLite file; a PostgreSQL
database it creates and drops), seeds it through the services, serves `pappus.app:create_app`
with uvicorn in a subprocess on a free 127.0.0.1 port and drives it with aiohttp
(`harness.LoadClient`):

- raw SQL floor: one order row by primary key with sqlite3 / psycopg directly, one client;
- GET /api/v1/orders/{id} (the heaviest read) and GET /api/v1/orders?limit=20, brand token;
- POST /api/v1/auth/token, the one place argon2 runs, and what it does to a write beside it;
- order workflows: accept application -> submit draft -> approve -> publish (4 writes each).

The HTTP floor is a hello-world FastAPI app (one sync GET route returning {"ok": true}) behind
the same uvicorn command. Every load phase is bounded in time and stops by itself; servers are
stopped and the PostgreSQL database dropped on the way out, also on errors and Ctrl-C. Prints
a table, writes JSON and a PNG chart beside it (when matplotlib is installed).
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from api_workflow_chart import draw_chart
from harness import (
    BENCH_DIR,
    Job,
    LoadClient,
    LoadResult,
    Progress,
    StepStats,
    Tally,
    WorkRanOut,
    call,
    fmt_ms,
    fmt_rate,
    git_commit,
    machine_info,
    package_versions,
    render_table,
    run_load,
    say,
    serve,
    watch_postgres_database,
)

DEFAULT_OUT = BENCH_DIR / "results" / "api_workflow.json"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
API = "/api/v1"
PASSWORD = "bench-password-2026"
BRAND_EMAIL = "brand@bench.pappus.dev"
WARMUP_SECONDS = 1.0
RAW_SQL_SECONDS = 2.0
WRITE_ALONE_SECONDS = 2.0
LOGIN_CLIENTS = 2  # one login already keeps both cores busy (argon2id, 4 lanes, 64 MiB)
OTHER_CPU_WARNING = 25.0  # % of a core used by processes that are not part of the run
APPLICATIONS_PER_SECOND = 80  # pending applications seeded per second of the write phase
WALLET_FUNDS = 10**11  # minor units: far more than every order of a run holds in escrow
PACKAGES = (
    *("pappus", "fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools"),
    *("sqlalchemy", "psycopg", "argon2-cffi", "aiohttp", "matplotlib"),
)
EXAMPLE = """\
examples:
  python bench/api_workflow.py          # both backends, 10 s per scenario, about 2.5 minutes
  python bench/api_workflow.py --backends sqlite --duration 3 --concurrency 4
"""


def create_hello_app() -> Any:
    """The HTTP floor (uvicorn imports it in the server process): one sync route, as Pappus's
    routes are, so both pay the same thread-pool hop."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict[str, bool]:
        return {"ok": True}

    return app


# -- databases ------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    url: str  # SQLAlchemy URL, passed as PAPPUS_DATABASE_URL
    version: str
    raw_select: Callable[[list[str], float], StepStats]


def libpq_url(sqlalchemy_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


@contextmanager
def sqlite_backend(workdir: Path) -> Iterator[Backend]:
    path = workdir / "bench.db"
    yield Backend(
        "sqlite",
        f"sqlite:///{path}",
        sqlite3.sqlite_version,
        lambda ids, seconds: raw_select_sqlite(path, ids, seconds),
    )


@contextmanager
def postgres_backend(admin_url: str) -> Iterator[Backend]:
    """A fresh database on the server at `admin_url`, dropped on the way out."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"pappus_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
        version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        admin.execute(f'CREATE DATABASE "{name}"')
    say(f"  created PostgreSQL database {name}")
    url = make_url(admin_url).set(database=name).render_as_string(False)
    watch_postgres_database(name)
    try:
        yield Backend("postgresql", url, version, lambda ids, s: raw_select_postgres(url, ids, s))
    finally:
        watch_postgres_database(None)
        with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        say(f"  dropped PostgreSQL database {name}")


def timed_calls(fetch: Callable[[str], Any], ids: list[str], seconds: float) -> StepStats:
    stats = StepStats()
    rng = random.Random(7)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        order_id = rng.choice(ids)
        started = time.perf_counter()
        if fetch(order_id) is None:
            stats.failed(404, f"order {order_id} not found")
        else:
            stats.ok(time.perf_counter() - started)
    return stats


def raw_select_sqlite(path: Path, ids: list[str], seconds: float) -> StepStats:
    connection = sqlite3.connect(path)
    try:
        query = "SELECT * FROM orders WHERE id = ?"
        return timed_calls(lambda i: connection.execute(query, (i,)).fetchone(), ids, seconds)
    finally:
        connection.close()


def raw_select_postgres(url: str, ids: list[str], seconds: float) -> StepStats:
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        query = "SELECT * FROM orders WHERE id = %s"  # prepared by psycopg after 5 runs
        return timed_calls(lambda i: connection.execute(query, (i,)).fetchone(), ids, seconds)


# -- seeding through the services -----------------------------------------------------------


@dataclass
class SeedPlan:
    creators: int
    read_orders: int
    applications: int


@dataclass
class Seeded:
    brand_token: str
    creator_tokens: list[str]
    read_order_ids: list[str]
    # (application id, creator access token): pending applications for the write scenario
    pending: list[tuple[str, str]]


def campaign_brief(name: str) -> Any:
    from pappus.campaigns.schemas import CampaignCreate

    return CampaignCreate.model_validate(
        {
            "name": name,
            "description": "Try our new serum and tell your followers honestly.",
            "objective": "awareness",
            "campaign_type": "branded_content",
            "product": {"name": "Glow serum", "url": "https://brand.example/serum"},
            "key_messages": ["hydration", "gentle"],
            "formats": ["image_post"],
            "currency": "CNY",
            "budget_amount": 10**12,
        }
    )


def seed(url: str, plan: SeedPlan, label: str) -> Seeded:
    """Fill a migrated, empty database: one brand, creators, one campaign whose orders the
    reads look at, and enough campaigns with pending applications for the writes."""
    from pappus.db import Database

    db = Database(url)
    campaigns_needed = max(1, math.ceil(plan.applications / plan.creators))
    total = 1 + plan.creators + plan.read_orders + campaigns_needed * plan.creators
    progress = Progress(f"{label}: seeding", total, " rows")
    started = time.perf_counter()
    try:
        brand = _seed_brand(db)
        progress.advance()
        creators = _seed_creators(db, plan.creators, progress)
        read_ids = _seed_read_orders(db, brand, creators[: plan.read_orders], progress)
        pending = _seed_pending(db, brand, creators, campaigns_needed, progress)
    finally:
        db.dispose()
    progress.done(
        f"{len(creators)} creators, {len(read_ids)} orders, {len(pending)} applications "
        f"in {time.perf_counter() - started:.1f} s"
    )
    tokens = [c["token"] for c in creators]
    return Seeded(brand["token"], tokens, read_ids, pending[: plan.applications])


def _seed_brand(db: Any, email: str = BRAND_EMAIL, name: str = "Bench Skincare") -> dict[str, Any]:
    """The brand keeps the real argon2 parameters (the login scenario signs in as it); its
    wallet is funded with a sandbox deposit, as `pappus demo` does, for every escrow hold."""
    from pappus.accounts import service as accounts
    from pappus.ledger import service as ledger

    with db.unit_of_work() as session:
        user, org, _ = accounts.register(
            session,
            kind="brand",
            email=email,
            password=PASSWORD,
            display_name="Bench brand owner",
            organization_name=name,
        )
        assert org is not None
        token, _, _ = accounts.issue_tokens(session, user)
        principal = accounts.principal_for_user(session, user)
        deposit = ledger.create_deposit(session, principal, str(org.id), WALLET_FUNDS, "CNY")
        ledger.confirm_sandbox_deposit_now(session, deposit)
        return {"token": token, "principal": principal}


def _seed_creators(db: Any, count: int, progress: Progress) -> list[dict[str, Any]]:
    """Creators get a password hash with cheap argon2 parameters, made once, in this process
    only (argon2 runs at registration and login; 200 real hashes would take a minute). Their
    tokens are issued by the service; the server is not touched."""
    from argon2 import PasswordHasher

    from pappus.accounts import service as accounts
    from pappus.creators import service as creators_service
    from pappus.creators.schemas import CreatorUpdate

    cheap_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    creators: list[dict[str, Any]] = []
    with mock.patch.object(accounts, "hash_password", lambda _password: cheap_hash):
        for start in range(0, count, 50):
            with db.unit_of_work() as session:
                for n in range(start, min(start + 50, count)):
                    user, _, creator_id = accounts.register(
                        session,
                        kind="creator",
                        email=f"creator{n}@bench.pappus.dev",
                        password=PASSWORD,
                        display_name=f"Bench creator {n}",
                    )
                    creators_service.update_profile(
                        session,
                        str(creator_id),
                        CreatorUpdate(followers=5_000 + 137 * n, categories=["skincare"]),
                    )
                    token, _, _ = accounts.issue_tokens(session, user)
                    principal = accounts.principal_for_user(session, user)
                    creators.append({"token": token, "principal": principal})
            progress.advance(min(50, count - start))
    return creators


def _open_campaign(session: Any, brand: dict[str, Any], name: str) -> str:
    from pappus.campaigns import service as campaigns

    campaign = campaigns.create_campaign(session, brand["principal"], campaign_brief(name))
    campaigns.change_status(session, brand["principal"], campaign.id, "open")
    return str(campaign.id)


def _apply(session: Any, creator: dict[str, Any], campaign_id: str, n: int) -> str:
    from pappus.campaigns import service as campaigns
    from pappus.campaigns.schemas import ApplicationCreate

    body = ApplicationCreate(
        proposal="One image post about the serum.", quote_amount=300_000 + n, currency="CNY"
    )
    return str(campaigns.apply(session, creator["principal"], campaign_id, body).id)


def _seed_read_orders(
    db: Any, brand: dict[str, Any], creators: list[dict[str, Any]], progress: Progress
) -> list[str]:
    """Accepted orders, a quarter in each of awaiting_draft, draft_review, approved and
    published, so the detail reads see every shape of `allowed_actions`."""
    from pappus.campaigns import service as campaigns

    with db.unit_of_work() as session:
        campaign_id = _open_campaign(session, brand, "Reads: spring serum seeding")
    order_ids: list[str] = []
    for start in range(0, len(creators), 50):
        with db.unit_of_work() as session:
            for n, creator in enumerate(creators[start : start + 50], start=start):
                application_id = _apply(session, creator, campaign_id, n)
                _, order = campaigns.accept_application(
                    session, brand["principal"], application_id, None
                )
                _advance(session, brand, creator, str(order.id), n % 4)
                order_ids.append(str(order.id))
        progress.advance(len(creators[start : start + 50]))
    return order_ids


def _advance(
    session: Any, brand: dict[str, Any], creator: dict[str, Any], order_id: str, steps: int
) -> None:
    from pappus.orders import schemas as order_schemas
    from pappus.orders import service as orders

    if steps >= 1:
        body = order_schemas.DraftCreate(title="Glow", body="Honest review #ad")
        draft = orders.submit_draft(session, creator["principal"], order_id, body)
    if steps >= 2:
        orders.approve_draft(session, brand["principal"], order_id, draft.id, None)
    if steps >= 3:
        post = {"post_url": f"https://www.xiaohongshu.com/explore/r{order_id[-12:]}"}
        publication = order_schemas.PublicationCreate.model_validate(post)
        orders.publish(session, creator["principal"], order_id, publication)


def _seed_pending(
    db: Any,
    brand: dict[str, Any],
    creators: list[dict[str, Any]],
    campaigns_needed: int,
    progress: Progress,
) -> list[tuple[str, str]]:
    """Every creator applies to every write campaign (one application per creator and
    campaign is all the rules allow)."""
    pending: list[tuple[str, str]] = []
    for index in range(campaigns_needed):
        with db.unit_of_work() as session:
            campaign_id = _open_campaign(session, brand, f"Writes: campaign {index + 1}")
            for n, creator in enumerate(creators):
                pending.append((_apply(session, creator, campaign_id, n), creator["token"]))
        progress.advance(len(creators))
    random.Random(11).shuffle(pending)
    return pending


# -- jobs: what one client does once --------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hello_job() -> Job:
    async def job(client: LoadClient, tally: Tally, _worker: int) -> None:
        await call(client, tally, "hello", "GET", "/hello", 200)

    return job


def order_detail_job(seeded: Seeded) -> Job:
    rng = random.Random(3)
    headers = bearer(seeded.brand_token)

    async def job(client: LoadClient, tally: Tally, _worker: int) -> None:
        url = f"{API}/orders/{rng.choice(seeded.read_order_ids)}"
        await call(client, tally, "detail", "GET", url, 200, headers=headers)

    return job


def order_list_job(seeded: Seeded) -> Job:
    headers = bearer(seeded.brand_token)

    async def job(client: LoadClient, tally: Tally, _worker: int) -> None:
        await call(client, tally, "list", "GET", f"{API}/orders?limit=20", 200, headers=headers)

    return job


def profile_write_job(seeded: Seeded) -> Job:
    """A small write (PATCH /creators/me): the probe for what logins do to other writes."""
    headers = bearer(seeded.creator_tokens[0])
    counter = iter(range(10**9))

    async def job(client: LoadClient, tally: Tally, _worker: int) -> None:
        body = {"followers": 5_000 + next(counter)}
        await call(
            client, tally, "write", "PATCH", f"{API}/creators/me", 200, json=body, headers=headers
        )

    return job


def logins_beside_a_writer_job(seeded: Seeded) -> Job:
    """Client 0 keeps writing; every other client logs in as the brand, again and again."""
    form = {"username": BRAND_EMAIL, "password": PASSWORD}
    writer = profile_write_job(seeded)

    async def job(client: LoadClient, tally: Tally, worker: int) -> None:
        if worker == 0:
            await writer(client, tally, worker)
        else:
            await call(client, tally, "login", "POST", f"{API}/auth/token", 200, data=form)

    return job


WORKFLOW_STEPS = ("accept application", "submit draft", "approve draft", "publish")


def workflow_job(seeded: Seeded) -> Job:
    """accept -> submit draft -> approve -> publish on one pending application; a failed step
    ends that workflow (and is counted)."""
    brand = bearer(seeded.brand_token)
    draft = {"title": "Glow", "body": "My honest review #ad", "hashtags": ["ad"]}
    accept, submit, approve, publish = WORKFLOW_STEPS

    async def job(client: LoadClient, tally: Tally, _worker: int) -> None:
        if not seeded.pending:
            raise WorkRanOut
        application_id, creator_token = seeded.pending.pop()
        creator = bearer(creator_token)
        started = time.perf_counter()
        url = f"{API}/applications/{application_id}/accept"
        response = await call(client, tally, accept, "POST", url, 201, headers=brand)
        if response is None:
            return
        order = f"{API}/orders/{response.json()['order']['id']}"
        url = f"{order}/drafts"
        response = await call(client, tally, submit, "POST", url, 201, json=draft, headers=creator)
        if response is None:
            return
        url = f"{order}/drafts/{response.json()['id']}/approve"
        if await call(client, tally, approve, "POST", url, 200, headers=brand) is None:
            return
        post = {"post_url": f"https://www.xiaohongshu.com/explore/b{application_id[-12:]}"}
        url = f"{order}/publication"
        if await call(client, tally, publish, "POST", url, 201, json=post, headers=creator):
            tally.step("workflow").ok(time.perf_counter() - started)

    return job


# -- phases ---------------------------------------------------------------------------------


@dataclass
class RunSettings:
    duration: float
    concurrency: int
    plan: SeedPlan


def measure(server: Any, label: str, seconds: float, concurrency: int, job: Job) -> LoadResult:
    """A 1 s warm-up (not counted), then the timed phase."""
    run_load(
        server.base_url, f"{label} (warm-up)", WARMUP_SECONDS, concurrency, job, transient=True
    )
    return run_load(
        server.base_url, label, seconds, concurrency, job, server_pid=server.process.pid
    )


def result_row(
    result: LoadResult, step: str, backend: str, scenario: str, unit: str, clients: int
) -> dict[str, Any]:
    row = result.tally.step(step).row(backend, scenario, unit, result.elapsed)
    row["clients"] = clients
    row["cpu"] = result.cpu
    return row


def hello_floor(settings: RunSettings, workdir: Path) -> list[dict[str, Any]]:
    say("\n== HTTP floor: a hello-world FastAPI app under the same uvicorn ==")
    env = server_env(None, workdir)
    with serve("api_workflow:create_hello_app", env, workdir, "/hello", "hello") as server:
        result = measure(
            server, "floor: GET /hello", settings.duration, settings.concurrency, hello_job()
        )
    scenario = "hello-world GET (HTTP floor)"
    return [result_row(result, "hello", "-", scenario, "req/s", settings.concurrency)]


def server_env(database_url: str | None, workdir: Path) -> dict[str, str]:
    """The caller's environment without PAPPUS_* settings, plus the benchmark's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPPUS_")}
    env["PAPPUS_RUN_JOBS_IN_PROCESS"] = "false"
    env["PAPPUS_JOBS_SQLITE_PATH"] = str(workdir / "jobs.db")
    if database_url is not None:
        env["PAPPUS_DATABASE_URL"] = database_url
    return env


def run_backend(backend: Backend, settings: RunSettings, workdir: Path) -> list[dict[str, Any]]:
    from pappus.migrate import upgrade

    say(f"\n== {backend.name} {backend.version} ==")
    upgrade(backend.url)
    seeded = seed(backend.url, settings.plan, backend.name)
    rows = [raw_sql_floor(backend, seeded, settings.duration)]
    env = server_env(backend.url, workdir)
    with serve("pappus.app:create_app", env, workdir, "/healthz", backend.name) as server:
        rows += read_rows(server, backend.name, seeded, settings)
        rows += workflow_rows(server, backend.name, seeded, settings)
        rows += login_rows(server, backend.name, seeded, settings)
    errors = server.logged_errors()
    if errors:
        say(f"  !! the {backend.name} server logged {len(errors)} error lines, first ones:")
        for line in errors[:10]:
            say(f"     {line}")
    for row in rows:
        row["server_log_errors"] = len(errors)
    return rows


def raw_sql_floor(backend: Backend, seeded: Seeded, duration: float) -> dict[str, Any]:
    """One client selecting seeded orders by primary key: no HTTP, no ORM, no pool."""
    from harness import CpuMeter

    seconds = min(RAW_SQL_SECONDS, max(0.5, duration / 5))
    progress = Progress(f"{backend.name}: raw SQL floor", seconds, " s", quiet_when_piped=True)
    progress.update(0.0)
    meter = CpuMeter(None)
    started = time.perf_counter()
    stats = backend.raw_select(seeded.read_order_ids, seconds)
    elapsed = time.perf_counter() - started
    progress.done(f"{len(stats.latencies):,} calls")
    row = stats.row(backend.name, "raw SQL: order by PK (DB floor)", "calls/s", elapsed)
    row["clients"] = 1
    row["cpu"] = meter.read()
    return row


def read_rows(
    server: Any, backend: str, seeded: Seeded, settings: RunSettings
) -> list[dict[str, Any]]:
    rows = []
    for scenario, step, job in (
        ("GET /orders/{id}", "detail", order_detail_job(seeded)),
        ("GET /orders?limit=20", "list", order_list_job(seeded)),
    ):
        label = f"{backend}: {scenario}"
        result = measure(server, label, settings.duration, settings.concurrency, job)
        rows.append(result_row(result, step, backend, scenario, "req/s", settings.concurrency))
    return rows


def workflow_rows(
    server: Any, backend: str, seeded: Seeded, settings: RunSettings
) -> list[dict[str, Any]]:
    """One row for whole workflows (wf/s, latency of all 4 writes), one per write."""
    label = f"{backend}: workflows"
    result = measure(server, label, settings.duration, settings.concurrency, workflow_job(seeded))
    if result.ran_out:
        say(
            f"  !! {backend}: the pending applications ran out after {result.elapsed:.1f} s; "
            "the rates are over that time (raise --applications)"
        )
    clients = settings.concurrency
    total = result_row(result, "workflow", backend, "workflow: 4 writes", "wf/s", clients)
    steps = [result.tally.step(name) for name in WORKFLOW_STEPS]
    total["contention_409_503"] = sum(s.contention for s in steps)
    total["server_errors_5xx"] = sum(s.server_errors for s in steps)
    total["other_errors"] = sum(s.other_errors for s in steps)
    total["error_examples"] = [e for s in steps for e in s.examples][:5]
    total["writes_per_s"] = round(sum(len(s.latencies) for s in steps) / result.elapsed, 2)
    total["ran_out_of_applications"] = result.ran_out
    rows = [total]
    for name in WORKFLOW_STEPS:
        rows.append(result_row(result, name, backend, f"  write: {name}", "req/s", clients))
        rows[-1]["cpu"] = None
    return rows


def login_rows(
    server: Any, backend: str, seeded: Seeded, settings: RunSettings
) -> list[dict[str, Any]]:
    """Logins (argon2) from LOGIN_CLIENTS clients beside one client that keeps making a small
    write; and the same write alone first, for comparison."""
    alone = run_load(
        server.base_url,
        f"{backend}: PATCH /creators/me, alone",
        min(WRITE_ALONE_SECONDS, settings.duration),
        1,
        profile_write_job(seeded),
        server_pid=server.process.pid,
    )
    clients = 1 + LOGIN_CLIENTS
    mixed = measure(
        server,
        f"{backend}: logins beside one writer",
        max(3.0, settings.duration / 3),
        clients,
        logins_beside_a_writer_job(seeded),
    )
    return [
        result_row(mixed, "login", backend, "POST /auth/token (argon2)", "req/s", clients - 1),
        result_row(alone, "write", backend, "  PATCH /creators/me, alone", "req/s", 1),
        result_row(mixed, "write", backend, "  same, beside the logins", "req/s", 1),
    ]


# -- report ---------------------------------------------------------------------------------


def add_floor_ratios(rows: list[dict[str, Any]]) -> None:
    """vs_hello: requests/s over the hello-world floor's (for workflows, write requests/s)."""
    hello = next((r["rate"] for r in rows if r["backend"] == "-"), 0.0)
    for row in rows:
        if row["scenario"].startswith("  ") or row["unit"] == "calls/s":
            continue
        rate = row["writes_per_s"] if row["unit"] == "wf/s" else row["rate"]
        row["vs_hello"] = round(rate / hello, 4) if hello else None


def fmt_cpu(cpu: dict[str, float | None] | None) -> str:
    if not cpu:
        return ""
    keys = ("server_pct", "load_generator_pct", "postgres_pct", "other_pct")
    return "/".join("-" if cpu[k] is None else f"{cpu[k]:.0f}" for k in keys)


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        *("backend", "scenario", "rate", "p50 ms", "p95 ms", "p99 ms", "ok"),
        *("409/503", "5xx", "other 4xx", "vs hello", "cpu% srv/gen/pg/other"),
    )
    lines = [
        (
            row["backend"],
            row["scenario"],
            fmt_rate(row["rate"], row["unit"]),
            *(fmt_ms(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms")),
            f"{row['ok']:,}",
            *(str(row[k]) for k in ("contention_409_503", "server_errors_5xx", "other_errors")),
            f"{row['vs_hello']:.2f}x" if row.get("vs_hello") is not None else "",
            fmt_cpu(row.get("cpu")),
        )
        for row in rows
    ]
    return render_table(header, lines)


def other_cpu(row: dict[str, Any]) -> float:
    return float((row.get("cpu") or {}).get("other_pct") or 0.0)


def write_report(report: dict[str, Any], out: Path) -> int:
    """Print the table, write the JSON and the chart; 1 if anything failed."""
    rows = report["results"]
    print()
    print(table(rows))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON:  {out}")
    chart = out.with_suffix(".png")
    if draw_chart(report, chart):
        print(f"chart: {chart}")
    print(f"total time: {report['runtime_s']:.0f} s")
    bad = [
        r for r in rows if r["server_errors_5xx"] or r["other_errors"] or r.get("server_log_errors")
    ]
    for row in bad:
        say(
            f"!!! FAILURE {row['backend']} {row['scenario'].strip()}: "
            f"{row['server_errors_5xx']} x 5xx or transport errors, {row['other_errors']} x "
            f"unexpected 4xx, {row.get('server_log_errors', 0)} server log errors; "
            f"examples: {row['error_examples']}"
        )
    busy = [r for r in rows if other_cpu(r) > OTHER_CPU_WARNING]
    if busy:
        worst = max(other_cpu(r) for r in busy)
        say(
            f"!! other processes on this machine used up to {worst:.0f}% of a core during "
            f"{len(busy)} of the phases (the cpu% 'other' column): those numbers are low; "
            "rerun on a quiet machine"
        )
    return 1 if bad else 0


# -- command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/api_workflow.py",
        description=(
            "Benchmark the Pappus API over HTTP (the real app under uvicorn) on SQLite and\n"
            "PostgreSQL: order reads, order workflows (4 writes each) and login, against a\n"
            "hello-world HTTP floor and a raw SQL floor measured in the same run. Prints a\n"
            "table, writes JSON and a PNG chart beside it. Only 127.0.0.1 is contacted.\n"
            "Described in docs/benchmarks.md."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated list of sqlite, postgresql (default: %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of each timed scenario, after a 1 s warm-up (default: %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="concurrent HTTP clients (default: %(default)s)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server on which a throw-away database is created and dropped (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON results; the chart is written beside it as .png "
        "(default: bench/results/api_workflow.json)",
    )
    parser.add_argument(
        "--creators", type=int, default=200, help="creators to seed (default: %(default)s)"
    )
    parser.add_argument(
        "--applications",
        type=int,
        default=None,
        help="pending applications to seed for the workflows "
        f"(default: {APPLICATIONS_PER_SECOND} per second of --duration and warm-up)",
    )
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(args.backends) - {"sqlite", "postgresql"})
    if unknown or not args.backends:
        parser.error(f"unknown backend(s): {', '.join(unknown) or 'none given'}")
    if args.duration <= 0 or args.concurrency < 1 or args.creators < 1:
        parser.error("--duration, --concurrency and --creators must be positive")
    return args


def _stop_on_sigterm(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # so every finally block runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    applications = args.applications or math.ceil(
        APPLICATIONS_PER_SECOND * (args.duration + WARMUP_SECONDS)
    )
    plan = SeedPlan(args.creators, min(args.creators, 200), applications)
    settings = RunSettings(args.duration, args.concurrency, plan)
    load_average = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if load_average and load_average[0] > 0.5:
        say(f"!! the machine is busy before the run (load average {load_average[0]:.1f})")
    workdir = Path(tempfile.mkdtemp(prefix="pappus-bench-"))
    # Seeding runs the services here; the deposit enqueues a job: keep its queue file in the
    # temp dir (set before anything imports pappus and reads the settings).
    os.environ["PAPPUS_JOBS_SQLITE_PATH"] = str(workdir / "seed-jobs.db")
    rows: list[dict[str, Any]] = []
    backends: list[Backend] = []
    started = time.monotonic()
    try:
        rows += hello_floor(settings, workdir)
        for name in args.backends:
            with ExitStack() as stack:
                if name == "sqlite":
                    backend = stack.enter_context(sqlite_backend(workdir))
                else:
                    backend = stack.enter_context(postgres_backend(args.postgres_url))
                backends.append(backend)
                rows += run_backend(backend, settings, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    add_floor_ratios(rows)
    report = build_report(load_average, args, plan, backends, rows, started)
    return write_report(report, args.out)


def build_report(
    load_average: list[float] | None,
    args: argparse.Namespace,
    plan: SeedPlan,
    backends: list[Backend],
    rows: list[dict[str, Any]],
    started: float,
) -> dict[str, Any]:
    import pappus

    source = Path(pappus.__file__).resolve().parent
    machine = machine_info()
    machine["load_average_at_start"] = load_average
    machine["backends"] = {b.name: b.version for b in backends}
    machine["packages"] = package_versions(PACKAGES)
    return {
        "benchmark": "api_workflow",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python bench/api_workflow.py", *sys.argv[1:]]),
        "pappus_source": str(source),
        "git_commit": git_commit(source),
        "runtime_s": round(time.monotonic() - started, 1),
        "settings": {
            "backends": args.backends,
            "duration": args.duration,
            "warmup_s": WARMUP_SECONDS,
            "concurrency": args.concurrency,
            "creators": plan.creators,
            "read_orders": plan.read_orders,
            "pending_applications": plan.applications,
        },
        "machine": machine,
        "results": rows,
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted: the servers were stopped and the databases dropped")
        sys.exit(130)
