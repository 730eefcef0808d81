"""Ledger benchmark: escrow operations per second and their latency, on SQLite and PostgreSQL.

An escrow operation is one of the three money movements of an order's life:

- hold: a pending transfer brand_wallet -> a fresh order_escrow account (the account is
  created in the same transaction, as when an order is accepted);
- release: the hold is posted in part and the rest returns to the wallet, and the escrow pays
  creator_pending and platform_revenue: three transfers in one ledger transaction;
- refund: the hold is voided.

Each client repeats a cycle of hold, release, hold, refund (every escrow ends empty), measured
three ways, each with 1, 8 and 16 concurrent clients:

- raw SQL floor: the same row locks (SELECT ... FOR NO KEY UPDATE on PostgreSQL, BEGIN
  IMMEDIATE on SQLite), balance UPDATEs and INSERTs in one transaction, with sqlite3 / psycopg
  directly, one connection per client thread;
- service layer: `pappus.ledger.service.place_escrow_hold` and `settle_escrow` (what the order
  workflow calls, on `pappus.ledger.book`), one `Database.unit_of_work` per operation;
- HTTP: the real API under uvicorn, POST /applications/{id}/accept (holds the escrow) then
  POST /orders/{id}/cancel (voids it), aiohttp client tasks (`harness.LoadClient`); beside
  its own floor, measured in the same run with as many workers and clients: a hello-world
  FastAPI app (one sync GET route), what the machine gives a request that does nothing.

The floor's and the service layer's clients are threads, spread over the processes a deployment
would run (`--processes`: 2 on PostgreSQL, 1 on SQLite). Every floor and service cell runs on a
fresh database holding a book in service (`ledger_clients.seed_history`: 10,000 orders held
and refunded before it, then ANALYZE); after every cell the whole book is verified as
`pappus ledger check` does it, and the violations are reported. Every load phase
is bounded in time; servers are stopped and the PostgreSQL databases dropped on the way out.
Prints a table, writes JSON and a PNG chart beside it (with matplotlib). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api_workflow import (
    API,
    DEFAULT_POSTGRES_URL,
    WARMUP_SECONDS,
    _seed_brand,
    _seed_creators,
    _seed_pending,
    bearer,
    fmt_cpu,
    hello_job,
    libpq_url,
    measure,
    server_env,
)
from harness import (
    BENCH_DIR,
    Job,
    LoadClient,
    LoadResult,
    Progress,
    Tally,
    WorkRanOut,
    call,
    fmt_ms,
    fmt_rate,
    git_commit,
    machine_info,
    package_versions,
    render_table,
    say,
    serve,
    watch_postgres_database,
)
from ledger_chart import draw_chart
from ledger_clients import (
    ESCROW,
    HOLD,
    REFUND,
    RELEASE,
    TO_BRAND,
    TO_CREATOR,
    TO_PLATFORM,
    StatementCounter,
    combined,
    count_service_statements,
    open_clients,
    prepare_book,
    run_processes,
    run_threads,
    seed_history,
)

DEFAULT_OUT = BENCH_DIR / "results" / "ledger.json"
# Pending applications seeded per second of each HTTP cell: enough for the 300 ops/s target.
HTTP_CYCLES_PER_SECOND = 150
OTHER_CPU_WARNING = 25.0  # % of a core used by processes that are not part of the run
TARGET_CLIENTS = 8
SERVICE_TARGET_RATE, SERVICE_TARGET_FLOOR_RATIO = 1_000.0, 2.0
HTTP_TARGET_RATE, HTTP_TARGET_P99_MS = 300.0, 200.0
# "hello": the HTTP cells' floor, a hello-world app under the same server (run with --layers http)
LAYERS = ("floor", "service", "hello", "http")
LAYER_NAMES = {
    "floor": "raw SQL floor",
    "service": "service layer",
    "hello": "HTTP floor",
    "http": "HTTP",
}
HTTP_HOLD, HTTP_REFUND = "HTTP hold (accept)", "HTTP refund (cancel)"
OPERATIONS = {"floor": (HOLD, RELEASE, REFUND), "service": (HOLD, RELEASE, REFUND)}
OPERATIONS["http"] = (HTTP_HOLD, HTTP_REFUND)
OPERATIONS["hello"] = ("hello",)
MIX = {"floor": "escrow ops (mix)", "service": "escrow ops (mix)", "http": "HTTP escrow (mix)"}
MIX["hello"] = "hello-world GET"
PACKAGES = (
    *("pappus", "fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools"),
    *("sqlalchemy", "psycopg", "aiohttp", "matplotlib"),
)
EXAMPLE = """\
examples:
  python bench/ledger.py              # both backends, 1/8/16 clients, 5 s per cell: ~2.5 min
  python bench/ledger.py --backends sqlite --duration 2 --clients 1,8
  python bench/ledger.py --layers floor,service --backends postgresql
  python bench/ledger.py --layers floor,service --clients 8 --processes 1  # one GIL
"""


# -- databases ------------------------------------------------------------------------------


@contextmanager
def fresh_database(backend: str, admin_url: str, workdir: Path, label: str) -> Iterator[str]:
    """A migrated, empty database (a temp SQLite file, or a new PostgreSQL database that is
    dropped on the way out, whatever happens); yields its SQLAlchemy URL."""
    from pappus.migrate import upgrade

    if backend == "sqlite":
        path = workdir / f"{label}.db"
        url = f"sqlite:///{path}"
        try:
            upgrade(url)
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                with suppress(OSError):
                    Path(f"{path}{suffix}").unlink()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"pappus_bench_{uuid.uuid4().hex[:10]}"
    url = make_url(admin_url).set(database=name).render_as_string(False)
    try:
        with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        watch_postgres_database(name)
        upgrade(url)
        yield url
    finally:
        watch_postgres_database(None)
        with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ledger_violations(url: str, escrow_owners: set[str]) -> tuple[list[str], float]:
    """What `pappus ledger check` verifies, and how long it took: the invariants of
    `pappus.ledger.service.check_invariants` (with `escrow_owners` and the finished orders
    as the escrows that must be empty) and the fee check of the settled orders."""
    from pappus.db import Database
    from pappus.ledger import service as ledger
    from pappus.orders import service as orders

    db = Database(url)
    started = time.perf_counter()
    try:
        with db.unit_of_work(write=False) as session:
            finished = orders.finished_order_ids(session) | escrow_owners
            found = [f"{v.rule}: {v.detail}" for v in ledger.check_invariants(session, finished)]
            found += [f"fee_mismatch: {p}" for p in orders.settlement_violations(session)]
    finally:
        db.dispose()
    return found, time.perf_counter() - started


# -- cells ----------------------------------------------------------------------------------


@dataclass
class RunSettings:
    backends: list[str]
    layers: list[str]
    clients: list[int]
    duration: float
    postgres_url: str
    creators: int
    applications: int
    workers: int | None = None  # None: per backend, see http_workers()
    processes: int | None = None  # None: per backend, see client_processes()
    brands: int | None = None  # None: one per client, see http_brands()


@dataclass
class Cell:
    backend: str
    layer: str
    clients: int
    result: LoadResult
    violations: list[str]
    check_s: float
    statements: dict[str, float] = field(default_factory=dict)
    ran_out: bool = False


def thread_cell(
    backend: str, layer: str, clients: int, settings: RunSettings, workdir: Path
) -> Cell:
    """One floor or service-layer cell on a fresh database, then the ledger check."""
    label = f"{backend}: {LAYER_NAMES[layer]}, {clients} client{'s' * (clients > 1)}"
    processes = min(client_processes(settings, backend), clients)
    with fresh_database(backend, settings.postgres_url, workdir, f"{layer}-{clients}") as url:
        setup = prepare_book(url, backend, clients)
        finished: list[str] = []
        with ExitStack() as stack:
            opened = open_clients(stack, layer, setup, list(range(clients)), finished)
            cycles = opened.cycles
            if layer == "service":
                statements = count_service_statements(opened.db, cycles[0])
            else:
                counter = StatementCounter(lambda: opened.raw[0].statements)
                cycles[0](counter)
                statements = counter.averages()
            if processes > 1:
                stack.close()  # the counting clients' connections, before forking
                label += f", {processes} processes"
                result = run_processes(
                    label,
                    layer,
                    setup,
                    clients,
                    processes,
                    WARMUP_SECONDS,
                    settings.duration,
                    finished,
                )
            else:
                run_threads(f"{label} (warm-up)", WARMUP_SECONDS, cycles, transient=True)
                result = run_threads(label, settings.duration, cycles)
        violations, check_s = ledger_violations(url, set(finished))
    say_check(label, violations, check_s)
    return Cell(backend, layer, clients, result, violations, check_s, statements)


def say_check(label: str, violations: list[str], seconds: float) -> None:
    if violations:
        say(f"  !! {label}: {len(violations)} ledger violations, first: {violations[0]}")
    else:
        say(f"  {label}: ledger check ok ({seconds:.1f} s)")


@dataclass
class HttpBrand:
    """One seeded brand of the HTTP cells: its token and its pending applications."""

    token: str
    pending: list[str]


def http_brands(settings: RunSettings) -> int:
    """One brand per client of the largest cell, as the floor and the service layer give
    each client a wallet of its own; `--brands 1` puts every client on one wallet."""
    return settings.brands or max(settings.clients)


def brand_quotas(settings: RunSettings) -> list[int]:
    """The applications to seed for each brand, in proportion to its share of the cells'
    work: client w of a cell acts for brand w modulo the brands, so with a brand per client
    brand 0 works in every cell and the last only in the largest."""
    count = http_brands(settings)
    shares = [
        sum(len(range(n, clients, count)) / clients for clients in settings.clients)
        for n in range(count)
    ]
    return [math.ceil(settings.applications * share / sum(shares)) for share in shares]


def seed_http(url: str, settings: RunSettings, backend: str) -> list[HttpBrand]:
    """Through the services, as bench/api_workflow.py does: brands with funded wallets,
    creators, and open campaigns of every brand that every creator applied to; each brand's
    token and pending applications (split by `brand_quotas`)."""
    from pappus.db import Database

    db = Database(url)
    quotas = brand_quotas(settings)
    campaigns = [max(1, math.ceil(quota / settings.creators)) for quota in quotas]
    total = len(quotas) + settings.creators + sum(campaigns) * settings.creators
    progress = Progress(f"{backend}: seeding the API", total, " rows")
    started = time.perf_counter()
    brands: list[HttpBrand] = []
    try:
        creators = _seed_creators(db, settings.creators, progress)
        for n, (quota, needed) in enumerate(zip(quotas, campaigns, strict=True)):
            brand = _seed_brand(db, f"brand{n}@bench.pappus.dev", f"Bench Skincare {n}")
            progress.advance()
            pending = _seed_pending(db, brand, creators, needed, progress)
            brands.append(HttpBrand(brand["token"], [a for a, _ in pending[:quota]]))
        seed_history(db)  # and ANALYZE, as autovacuum would have by now
    finally:
        db.dispose()
    seeded, seconds = sum(len(b.pending) for b in brands), time.perf_counter() - started
    progress.done(f"{seeded} applications of {len(brands)} brands in {seconds:.1f} s")
    return brands


def escrow_http_job(brands: list[HttpBrand]) -> Job:
    """Accept a pending application (creates the order and holds its escrow), then cancel the
    order while it awaits its draft (the creator's share is 0%: the hold is voided). Client
    n acts for brand n (modulo the brands); when its brand has no application left, for the
    brand with the most."""
    reason = {"reason": "benchmark: refund the escrow"}
    headers = [bearer(b.token) for b in brands]

    async def job(client: LoadClient, tally: Tally, worker: int) -> None:
        mine = worker % len(brands)
        if not brands[mine].pending:
            mine = max(range(len(brands)), key=lambda n: len(brands[n].pending))
            if not brands[mine].pending:
                raise WorkRanOut
        application_id, brand = brands[mine].pending.pop(), headers[mine]
        url = f"{API}/applications/{application_id}/accept"
        response = await call(client, tally, HTTP_HOLD, "POST", url, 201, headers=brand)
        if response is None:
            return
        url = f"{API}/orders/{response.json()['order']['id']}/cancel"
        await call(client, tally, HTTP_REFUND, "POST", url, 200, json=reason, headers=brand)

    return job


def hello_cells(backend: str, settings: RunSettings, workdir: Path) -> list[Cell]:
    """The HTTP cells' floor: `api_workflow.create_hello_app` (one sync GET route, as Pappus's
    routes are) under the same server with as many workers, at each level. What the machine
    gives a request that does nothing, in the same run as the cells it is the floor of."""
    cells: list[Cell] = []
    env = server_env(None, workdir)
    name, workers = f"{backend}-hello", http_workers(settings, backend)
    with serve("api_workflow:create_hello_app", env, workdir, "/hello", name, workers) as server:
        for clients in settings.clients:
            label = f"{backend}: HTTP floor, {clients} client{'s' * (clients > 1)}"
            result = measure(server, label, settings.duration, clients, hello_job())
            cells.append(Cell(backend, "hello", clients, result, [], 0.0))
    return cells


def http_cells(backend: str, settings: RunSettings, workdir: Path) -> tuple[list[Cell], int]:
    """The HTTP cells of one backend on one seeded database, served by uvicorn; the ledger
    check after each. Also the number of error lines the server logged."""
    cells: list[Cell] = []
    with fresh_database(backend, settings.postgres_url, workdir, "http") as url:
        brands = seed_http(url, settings, backend)
        env = server_env(url, workdir)
        name, workers = f"{backend}-http", http_workers(settings, backend)
        with serve("pappus.app:create_app", env, workdir, "/healthz", name, workers) as server:
            for clients in settings.clients:
                label = f"{backend}: HTTP, {clients} client{'s' * (clients > 1)}"
                job = escrow_http_job(brands)
                result = measure(server, label, settings.duration, clients, job)
                if result.ran_out:
                    say(
                        f"  !! {label}: the pending applications ran out after "
                        f"{result.elapsed:.1f} s; the rates are over that time "
                        "(raise --applications)"
                    )
                violations, check_s = ledger_violations(url, set())
                say_check(label, violations, check_s)
                cells.append(
                    Cell(
                        backend,
                        "http",
                        clients,
                        result,
                        violations,
                        check_s,
                        ran_out=result.ran_out,
                    )
                )
        errors = server.logged_errors()
    if errors:
        say(f"  !! the {backend} server logged {len(errors)} error lines, first ones:")
        for line in errors[:10]:
            say(f"     {line}")
    return cells, len(errors)


# -- rows, ratios and targets ---------------------------------------------------------------


def cell_rows(cell: Cell) -> list[dict[str, Any]]:
    """A row for the cell's mix of operations, then one per operation."""
    tally, elapsed = cell.result.tally, cell.result.elapsed
    operations = OPERATIONS[cell.layer]
    steps = [(MIX[cell.layer], combined([tally.step(op) for op in operations]))]
    steps += [(f"  {op}", tally.step(op)) for op in operations]
    rows = []
    for name, stats in steps:
        row = stats.row(cell.backend, name, "ops/s", elapsed)
        row["operation"] = row.pop("scenario")
        row["layer"], row["clients"] = cell.layer, cell.clients
        row["mix"] = not name.startswith("  ")
        row["statements_per_op"] = cell.statements.get(name.strip())
        row["errors"] = row["contention_409_503"] + row["server_errors_5xx"]
        row["errors"] += row["other_errors"]
        rows.append(row)
    mix = rows[0]
    mix["cpu"] = cell.result.cpu
    mix["violations"] = len(cell.violations)
    mix["violation_examples"] = cell.violations[:5]
    mix["check_s"] = round(cell.check_s, 2)
    mix["ran_out_of_applications"] = cell.ran_out
    return rows


# Each layer's floor: the raw SQL cells for the escrow ones, the hello-world app for HTTP.
FLOOR_OF = {"floor": "floor", "service": "floor", "hello": "hello", "http": "hello"}


def add_floor_ratios(rows: list[dict[str, Any]]) -> None:
    """floor_ratio: the floor's rate over this row's (2.0 = half as fast as the floor), for
    every mix: the raw SQL floor for the escrow cells, the hello-world app for HTTP."""
    floors = {
        (r["backend"], r["clients"], r["layer"]): r["rate"]
        for r in rows
        if r["mix"] and r["layer"] in ("floor", "hello")
    }
    for row in rows:
        if not row["mix"] or not row["rate"]:
            continue
        floor = floors.get((row["backend"], row["clients"], FLOOR_OF[row["layer"]]))
        if floor:
            row["floor_ratio"] = round(floor / row["rate"], 3)


def judge(row: dict[str, Any]) -> None:
    """target: "yes"/"no (...)" on the rows a target of the issue applies to; every mix must
    also have zero ledger violations."""
    if not row["mix"]:
        return
    problems = [f"{row['violations']} violations"] if row["violations"] else []
    applies = row["clients"] == TARGET_CLIENTS and (
        (row["layer"] == "service" and row["backend"] == "postgresql") or row["layer"] == "http"
    )
    if applies and row["layer"] == "service":
        if row["rate"] < SERVICE_TARGET_RATE:
            problems.append(f"< {SERVICE_TARGET_RATE:,.0f}/s")
        ratio = row.get("floor_ratio")
        if ratio is None or ratio > SERVICE_TARGET_FLOOR_RATIO:
            problems.append(f"floor > {SERVICE_TARGET_FLOOR_RATIO:g}x")
    if applies and row["layer"] == "http":
        if row["rate"] < HTTP_TARGET_RATE:
            problems.append(f"< {HTTP_TARGET_RATE:,.0f}/s")
        if row["p99_ms"] is None or row["p99_ms"] >= HTTP_TARGET_P99_MS:
            problems.append(f"p99 >= {HTTP_TARGET_P99_MS:,.0f} ms")
    if problems:
        row["target"] = "no: " + ", ".join(problems)
    else:
        row["target"] = "yes" if applies else "-"


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        *("backend", "layer", "clients", "operation", "rate", "p50 ms", "p95 ms", "p99 ms"),
        *("ok", "errors", "sql/op", "floor is", "violations", "target", "cpu% srv/gen/pg/other"),
    )
    lines = []
    for row in rows:
        first = row["mix"]
        ratio = row.get("floor_ratio")
        lines.append(
            (
                row["backend"] if first else "",
                LAYER_NAMES[row["layer"]] if first else "",
                str(row["clients"]) if first else "",
                row["operation"],
                fmt_rate(row["rate"], row["unit"]),
                *(fmt_ms(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms")),
                f"{row['ok']:,}",
                str(row["errors"]),
                "" if row["statements_per_op"] is None else f"{row['statements_per_op']:g}",
                f"{ratio:.2f}x" if ratio is not None else "",
                str(row["violations"]) if first and row["layer"] != "hello" else "",
                row.get("target", ""),
                fmt_cpu(row.get("cpu")),
            )
        )
    return render_table(header, lines, left=4)


def target_summary(rows: list[dict[str, Any]]) -> list[str]:
    """One line per target of the issue: met or missed, with the numbers."""

    def mix(backend: str, layer: str) -> list[dict[str, Any]]:
        return [
            r
            for r in rows
            if r["mix"]
            and r["backend"] == backend
            and r["layer"] == layer
            and r["clients"] == TARGET_CLIENTS
        ]

    lines = []
    for row in mix("postgresql", "service"):
        ok = row["rate"] >= SERVICE_TARGET_RATE
        lines.append(
            f"service layer, PostgreSQL, {TARGET_CLIENTS} clients: {row['rate']:,.0f} ops/s "
            f"(target {SERVICE_TARGET_RATE:,.0f}): {'met' if ok else 'MISSED'}"
        )
        ratio = row.get("floor_ratio")
        ok = ratio is not None and ratio <= SERVICE_TARGET_FLOOR_RATIO
        shown = "-" if ratio is None else f"{ratio:.2f}x"
        lines.append(
            f"service layer, PostgreSQL, {TARGET_CLIENTS} clients: floor is {shown} as fast "
            f"(target <= {SERVICE_TARGET_FLOOR_RATIO:g}x): {'met' if ok else 'MISSED'}"
        )
    for backend in ("sqlite", "postgresql"):
        hello = {r["clients"]: r["rate"] for r in mix(backend, "hello")}
        for row in mix(backend, "http"):
            ok = row["rate"] >= HTTP_TARGET_RATE and (row["p99_ms"] or 1e9) < HTTP_TARGET_P99_MS
            floor = hello.get(row["clients"])
            context = (
                f"; the hello-world floor did {floor:,.0f} req/s in this run, "
                f"{row.get('floor_ratio', 0):.1f}x as many"
                if floor
                else ""
            )
            lines.append(
                f"HTTP, {backend}, {TARGET_CLIENTS} clients: {row['rate']:,.0f} ops/s, p99 "
                f"{fmt_ms(row['p99_ms'])} ms (target {HTTP_TARGET_RATE:,.0f}/s, p99 < "
                f"{HTTP_TARGET_P99_MS:,.0f} ms): {'met' if ok else 'MISSED'}{context}"
            )
    cells = [r for r in rows if r["mix"] and r["layer"] != "hello"]  # the ledger's cells
    bad = sum(1 for r in cells if r["violations"])
    lines.append(
        f"ledger invariants: {bad} of {len(cells)} runs with violations: "
        f"{'met' if not bad else 'MISSED'}"
    )
    return lines


# -- report ---------------------------------------------------------------------------------


def other_cpu(row: dict[str, Any]) -> float:
    return float((row.get("cpu") or {}).get("other_pct") or 0.0)


def write_report(report: dict[str, Any], out: Path) -> int:
    """Print the table and the targets, write the JSON and the chart; 1 if anything failed."""
    rows = report["results"]
    print()
    print(table(rows))
    print()
    for line in report["targets"]:
        print(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON:  {out}")
    chart = out.with_suffix(".png")
    if draw_chart(report, chart):
        print(f"chart: {chart}")
    print(f"total time: {report['runtime_s']:.0f} s")
    failed = [
        r
        for r in rows
        if r["server_errors_5xx"]
        or r["other_errors"]
        or r.get("violations")
        or r.get("server_log_errors")
    ]
    for row in failed:
        say(
            f"!!! FAILURE {row['backend']} {LAYER_NAMES[row['layer']]} {row['clients']} clients "
            f"{row['operation'].strip()}: {row['server_errors_5xx']} errors or 5xx, "
            f"{row['other_errors']} unexpected 4xx, {row.get('violations', 0)} ledger violations, "
            f"{row.get('server_log_errors', 0)} server log errors; examples: "
            f"{row['error_examples'] or row.get('violation_examples')}"
        )
    busy = [r for r in rows if other_cpu(r) > OTHER_CPU_WARNING]
    if busy:
        worst = max(other_cpu(r) for r in busy)
        say(
            f"!! other processes on this machine used up to {worst:.0f}% of a core during "
            f"{len(busy)} of the runs (the cpu% 'other' column): those numbers are low; "
            "rerun on a quiet machine"
        )
    return 1 if failed else 0


def build_report(
    settings: RunSettings,
    versions: dict[str, str],
    rows: list[dict[str, Any]],
    load_average: list[float] | None,
    started: float,
) -> dict[str, Any]:
    import pappus

    source = Path(pappus.__file__).resolve().parent
    machine = machine_info()
    machine["load_average_at_start"] = load_average
    machine["backends"] = versions
    machine["packages"] = package_versions(PACKAGES)
    return {
        "benchmark": "ledger",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python bench/ledger.py", *sys.argv[1:]]),
        "pappus_source": str(source),
        "git_commit": git_commit(source),
        "runtime_s": round(time.monotonic() - started, 1),
        "settings": {
            "backends": settings.backends,
            "layers": settings.layers,
            "clients": settings.clients,
            "duration": settings.duration,
            "warmup_s": WARMUP_SECONDS,
            "escrow_amount": ESCROW,
            "release_split": {"creator": TO_CREATOR, "platform": TO_PLATFORM, "brand": TO_BRAND},
            "creators": settings.creators,
            "pending_applications": settings.applications,
            "http_workers": {b: http_workers(settings, b) for b in settings.backends},
            "http_brands": http_brands(settings),
            "client_processes": {b: client_processes(settings, b) for b in settings.backends},
        },
        "targets": target_summary(rows),
        "machine": machine,
        "results": rows,
    }


def backend_version(backend: str, admin_url: str) -> str:
    if backend == "sqlite":
        return sqlite3.sqlite_version
    import psycopg

    with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
        return str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]


# -- command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/ledger.py",
        description=(
            "Benchmark the escrow operations of the Pappus ledger (hold, release with three\n"
            "legs, refund) on SQLite and PostgreSQL, with 1, 8 and 16 concurrent clients:\n"
            "a raw SQL floor (the same locks, UPDATEs and INSERTs with sqlite3/psycopg), the\n"
            "service layer (threads), and HTTP (accept an application, cancel the order)\n"
            "beside its floor (a hello-world app under the same server).\n"
            "Checks the ledger's invariants after every run. Prints a table, writes JSON and\n"
            "a PNG chart beside it. Only 127.0.0.1 is contacted. See docs/benchmarks.md."
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
        "--layers",
        default="floor,service,http",
        help="comma-separated list of floor, service, http (default: %(default)s)",
    )
    parser.add_argument(
        "--clients",
        default="1,8,16",
        help="comma-separated concurrency levels (default: %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=5.0,
        help="seconds of each timed cell, after a 1 s warm-up (default: %(default)s)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server on which throw-away databases are created and dropped (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON results; the chart is written beside it as .png "
        "(default: bench/results/ledger.json)",
    )
    parser.add_argument(
        "--creators",
        type=int,
        default=200,
        help="creators seeded for the HTTP cells (default: %(default)s)",
    )
    parser.add_argument(
        "--applications",
        type=int,
        default=None,
        help="pending applications seeded for the HTTP cells (default: "
        f"{HTTP_CYCLES_PER_SECOND} per second of every HTTP cell and its warm-up)",
    )
    parser.add_argument(
        "--brands",
        type=int,
        default=None,
        help="brands of the HTTP cells, each with its own wallet, client n acting for brand n "
        "(default: one per client of the largest cell, as the floor and the service layer give "
        "each client a wallet; 1: every accept and cancel locks one wallet row)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes serving the HTTP cells, as `pappus serve --workers` (default: "
        f"{DEPLOYMENT_PROCESSES_HELP})",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="spread the floor's and the service layer's clients over this many processes, "
        "as the API's workers and the job workers call the service layer, so they do not "
        f"share one GIL (default: {DEPLOYMENT_PROCESSES_HELP}; 1: threads of this process)",
    )
    args = parser.parse_args(argv)
    args.backends = split_list(parser, "--backends", args.backends, ("sqlite", "postgresql"))
    # the HTTP floor runs with the HTTP cells, not on its own
    args.layers = split_list(parser, "--layers", args.layers, ("floor", "service", "http"))
    try:
        args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    except ValueError:
        parser.error("--clients takes whole numbers, e.g. 1,8,16")
    if not args.clients or min(args.clients) < 1:
        parser.error("--clients needs at least one level, each 1 or more")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be positive")
    if args.processes is not None and args.processes < 1:
        parser.error("--processes must be positive")
    if args.brands is not None and args.brands < 1:
        parser.error("--brands must be positive")
    if args.duration <= 0 or args.creators < 1:
        parser.error("--duration and --creators must be positive")
    return args


DEPLOYMENT_PROCESSES_HELP = (
    "one per core, at most 2, on PostgreSQL; 1 on SQLite, whose writers in several processes "
    "meet its busy handler"
)


def deployment_processes(backend: str) -> int:
    """How many processes a deployment runs Pappus in: on PostgreSQL one per core (at most 2,
    the size of the machine the targets are for); SQLite stays in one process, where its
    writers take turns instead of sleeping in the busy handler."""
    return min(2, os.cpu_count() or 1) if backend == "postgresql" else 1


def http_workers(settings: RunSettings, backend: str) -> int:
    return settings.workers or deployment_processes(backend)


def client_processes(settings: RunSettings, backend: str) -> int:
    """Processes the floor's and the service layer's clients are spread over."""
    return settings.processes or deployment_processes(backend)


def split_list(
    parser: argparse.ArgumentParser, option: str, value: str, known: tuple[str, ...]
) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = sorted(set(items) - set(known))
    if unknown or not items:
        parser.error(f"{option}: unknown value(s): {', '.join(unknown) or 'none given'}")
    return [item for item in known if item in items]


def _stop_on_sigterm(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # so every finally block runs


def run(settings: RunSettings, workdir: Path) -> tuple[list[Cell], dict[str, int]]:
    """Every cell: per backend the floor and the service layer at each level, then HTTP."""
    cells: list[Cell] = []
    log_errors: dict[str, int] = {}
    for backend in settings.backends:
        say(f"\n== {backend} ==")
        for layer in ("floor", "service"):
            if layer in settings.layers:
                for clients in settings.clients:
                    cells.append(thread_cell(backend, layer, clients, settings, workdir))
        if "http" in settings.layers:
            cells += hello_cells(backend, settings, workdir)
            found, log_errors[backend] = http_cells(backend, settings, workdir)
            cells += found
    return cells, log_errors


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    applications = args.applications or math.ceil(
        HTTP_CYCLES_PER_SECOND * (args.duration + WARMUP_SECONDS) * len(args.clients)
    )
    settings = RunSettings(
        args.backends,
        args.layers,
        args.clients,
        args.duration,
        args.postgres_url,
        args.creators,
        applications,
        args.workers,
        args.processes,
        args.brands,
    )
    load_average = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if load_average and load_average[0] > 0.5:
        say(f"!! the machine is busy before the run (load average {load_average[0]:.1f})")
    versions = {b: backend_version(b, args.postgres_url) for b in args.backends}
    workdir = Path(tempfile.mkdtemp(prefix="pappus-bench-ledger-"))
    # The HTTP seeding's deposit enqueues a job: keep its queue file in the temp dir (set
    # before anything imports pappus and reads the settings).
    os.environ["PAPPUS_JOBS_SQLITE_PATH"] = str(workdir / "seed-jobs.db")
    started = time.monotonic()
    try:
        cells, log_errors = run(settings, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    order = {
        (b, c, layer): n
        for n, (b, c, layer) in enumerate(
            itertools.product(settings.backends, settings.clients, LAYERS)
        )
    }
    cells.sort(key=lambda cell: order[(cell.backend, cell.clients, cell.layer)])
    rows = [row for cell in cells for row in cell_rows(cell)]
    for row in rows:
        if row["layer"] == "http":
            row["server_log_errors"] = log_errors.get(row["backend"], 0)
    add_floor_ratios(rows)
    for row in rows:
        judge(row)
    report = build_report(settings, versions, rows, load_average, started)
    return write_report(report, args.out)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted: the servers were stopped and the databases dropped")
        sys.exit(130)
