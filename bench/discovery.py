"""Discovery benchmark: creator search at a million creators, over HTTP and as raw SQL.

For each backend (SQLite, PostgreSQL) the script migrates a fresh database, fills it with N
creators from the sandbox world (default 1,000,000; bulk inserts, see discovery_seed.py), a
brand and a few orders of that brand (for `not_worked_with`), then runs a fixed mix of
searches (default 1,000, from a seeded RNG, see discovery_queries.py) two ways:

- raw SQL floor: each search as SQL with sqlite3 / psycopg on one connection (the page in the
  same order, then the total and facet counts), timed per search;
- API: GET /api/v1/creators on the real app served by uvicorn, brand token, 1 client by
  default (`--clients` for more), after one warm-up request that builds the server's index
  (timed and reported, not counted).

It prints p50/p95/p99 latency and queries per second for both, judges the targets (p95 under
50 ms and p99 under 150 ms on both backends, API within 2x of the floor at p50, all at a
million creators on 2 cores) and checks that the API and the floor agree on totals, facets
and first pages. Every phase is bounded in time; servers are stopped and the PostgreSQL
database dropped on the way out, also on errors and Ctrl-C. Writes JSON and a PNG chart
beside it (with matplotlib). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from api_workflow import (
    API,
    DEFAULT_POSTGRES_URL,
    _apply,
    _open_campaign,
    _seed_brand,
    bearer,
    fmt_cpu,
    server_env,
)
from discovery_chart import draw_chart
from discovery_queries import KINDS, Answer, FloorRun, Query, make_mix, run_floor, units
from discovery_seed import LISTING_FLOOR, SeedSpec, cheap_password_hash, creator_email
from discovery_seed import seed_creators as bulk_seed
from harness import (
    BENCH_DIR,
    LoadClient,
    Progress,
    Tally,
    WorkRanOut,
    call,
    fmt_ms,
    git_commit,
    machine_info,
    package_versions,
    percentile,
    render_table,
    run_load,
    say,
    serve,
)

from ledger import backend_version, fresh_database, split_list
from pappus.sandbox import world as w

DEFAULT_OUT = BENCH_DIR / "results" / "discovery.json"
WORLD_SEED = 2026  # the sandbox world the creators come from
MIX_SEED = 1130  # the query mix
WORKED_WITH = 30  # creators the brand has orders with (what not_worked_with leaves out)
TARGET_CREATORS = 1_000_000
TARGET_P95_MS, TARGET_P99_MS, TARGET_FLOOR_RATIO = 50.0, 150.0, 2.0
OTHER_CPU_WARNING = 25.0  # % of a core used by processes that are not part of the run
LAYERS = ("floor", "api")
LAYER_NAMES = {"floor": "raw SQL floor", "api": "API (HTTP)"}
PACKAGES = (
    *("pappus", "fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools"),
    *("sqlalchemy", "psycopg", "numpy", "httpx", "aiohttp", "matplotlib"),
)
EXAMPLE = """\
examples:
  python bench/discovery.py                      # 1,000,000 creators, both backends: ~45 min
  python bench/discovery.py --creators 100000    # both backends: about 6 minutes
  python bench/discovery.py --creators 20000 --queries 200 --backends sqlite
  python bench/discovery.py --clients 4 --layers api --backends postgresql
"""


@dataclass
class Settings:
    backends: list[str]
    layers: list[str]
    creators: int
    queries: int
    clients: int
    postgres_url: str
    max_seconds: float
    warmup_timeout: float
    statement_timeout: float
    processes: int
    seed: int


# -- seeding --------------------------------------------------------------------------------


@dataclass
class Seeded:
    brand_token: str
    organization_id: str
    worked_with: list[str]  # creator ids with an order from the brand
    seconds: float  # the bulk insert, ANALYZE included
    brand_seconds: float


def seed(url: str, backend: str, settings: Settings, now: datetime) -> Seeded:
    """The creators in bulk, then through the services one brand (with a funded wallet) and
    one campaign whose accepted orders tie it to WORKED_WITH listed creators."""
    spec = SeedSpec(
        settings.creators, WORLD_SEED, now, backend == "postgresql", cheap_password_hash()
    )
    seconds = bulk_seed(url, spec, backend, settings.processes)
    started = time.perf_counter()
    brand_token, organization_id, worked_with = seed_brand(url, settings.creators, now)
    brand_seconds = time.perf_counter() - started
    say(
        f"  {backend}: one brand, {len(worked_with)} orders with listed creators "
        f"in {brand_seconds:.1f} s"
    )
    return Seeded(brand_token, organization_id, worked_with, seconds, brand_seconds)


def seed_brand(url: str, creators: int, now: datetime) -> tuple[str, str, list[str]]:
    from pappus.accounts import service as accounts
    from pappus.campaigns import service as campaigns
    from pappus.db import Database

    world = w.WorldSpec(seed=WORLD_SEED, accounts=creators, today=now.date())
    candidates = random.Random(WORLD_SEED).sample(range(creators), min(creators, 1_000))
    listed = [i for i in candidates if w.account(world, i).followers >= LISTING_FLOOR]
    chosen = listed[:WORKED_WITH]
    db = Database(url)
    try:
        brand = _seed_brand(db)
        worked_with = []
        with db.unit_of_work() as session:
            campaign_id = _open_campaign(session, brand, "Discovery: worked with before")
            for n, index in enumerate(chosen):
                user = accounts.get_user_by_email(session, creator_email(index))
                creator = {"principal": accounts.principal_for_user(session, user)}
                application_id = _apply(session, creator, campaign_id, n)
                _, order = campaigns.accept_application(
                    session, brand["principal"], application_id, None
                )
                worked_with.append(str(order.creator_id))
        organization_id = next(iter(brand["principal"].roles))
    finally:
        db.dispose()
    return brand["token"], organization_id, worked_with


# -- the API --------------------------------------------------------------------------------


@dataclass
class ApiRun:
    answers: dict[int, Answer] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)  # second pages without a first
    tally: Tally = field(default_factory=Tally)
    elapsed: float = 0.0
    cpu: dict[str, float | None] | None = None
    warmup_s: float | None = None
    problem: str | None = None  # why the API phase did not run
    stopped_early: bool = False
    log_errors: list[str] = field(default_factory=list)
    rss_mib: dict[str, float | None] = field(default_factory=dict)  # the server's memory


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process (Linux /proc), in MiB; None elsewhere."""
    with suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def warm_up(base_url: str, token: str, timeout: float, label: str) -> tuple[float, str | None]:
    """The first search, which builds the server's index: seconds it took, and a problem
    (an error, or a response that is not the discovery contract) or None."""
    outcome: dict[str, Any] = {}

    def request() -> None:
        try:
            outcome["response"] = httpx.get(
                f"{base_url}{API}/creators",
                params={"limit": 1},
                headers=bearer(token),
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    progress = Progress(label, round(timeout, 1), " s", transient=True, quiet_when_piped=True)
    started = time.perf_counter()
    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.25)
        progress.update(round(min(time.perf_counter() - started, timeout), 1), "waiting")
    elapsed = time.perf_counter() - started
    progress.done()
    say(f"  {label}: first answer in {elapsed:.1f} s")
    if "error" in outcome:
        return elapsed, outcome["error"]
    response = outcome["response"]
    if response.status_code != 200:
        return elapsed, f"HTTP {response.status_code}: {response.text[:300]}"
    body = response.json()
    missing = [key for key in ("items", "next_cursor", "total", "facets") if key not in body]
    if missing:
        return elapsed, f"the response has no {', '.join(missing)}: not the discovery contract"
    return elapsed, None


def api_answer(body: dict[str, Any], seconds: float) -> Answer:
    return Answer(
        seconds,
        int(body["total"]),
        [item["id"] for item in body["items"]],
        body.get("next_cursor") is not None,
        body.get("facets"),
    )


def search_job(queries: list[Query], token: str, run: ApiRun) -> Any:
    """One search unit per call (a search and its second page, in order); WorkRanOut when
    the mix is done."""
    pending = deque(units(queries))
    headers = bearer(token)
    cursors: dict[int, str | None] = {}

    async def job(client: LoadClient, tally: Tally, _worker: int) -> None:
        if not pending:
            raise WorkRanOut
        for query in pending.popleft():
            cursor = None
            if query.follows is not None:
                cursor = cursors.get(query.follows)
                if cursor is None:  # the first page failed or was the only one
                    run.skipped.append(query.n)
                    continue
            params = query.params(cursor)
            url = f"{API}/creators"
            response = await call(
                client, tally, query.kind, "GET", url, 200, params=params, headers=headers
            )
            if response is None:
                continue
            # call() appended this request's latency last, with no await in between
            seconds = tally.step(query.kind).latencies[-1]
            body = response.json()
            run.answers[query.n] = api_answer(body, seconds)
            cursors[query.n] = body.get("next_cursor")

    return job


def api_phase(
    url: str, backend: str, seeded: Seeded, queries: list[Query], settings: Settings, workdir: Path
) -> ApiRun:
    run = ApiRun()
    env = server_env(url, workdir)
    with serve("pappus.app:create_app", env, workdir, "/healthz", f"{backend}-api") as server:
        run.rss_mib["started"] = rss_mib(server.process.pid)
        run.warmup_s, run.problem = warm_up(
            server.base_url,
            seeded.brand_token,
            settings.warmup_timeout,
            f"{backend}: API warm-up (index build)",
        )
        run.rss_mib["after_warmup"] = rss_mib(server.process.pid)
        if run.problem is None:
            clients = settings.clients
            label = f"{backend}: API, {len(queries):,} searches, {clients} client" + "s" * (
                clients > 1
            )
            job = search_job(queries, seeded.brand_token, run)
            result = run_load(
                server.base_url,
                f"{label} (stops at {settings.max_seconds:g} s)",
                settings.max_seconds,
                clients,
                job,
                server_pid=server.process.pid,
                transient=True,
            )
            run.tally, run.elapsed, run.cpu = result.tally, result.elapsed, result.cpu
            run.stopped_early = not result.ran_out
            run.rss_mib["after_run"] = rss_mib(server.process.pid)
            say(f"  {label}: {len(run.answers):,} answered in {run.elapsed:.1f} s")
        else:
            say(f"  !! {backend}: the API did not answer the discovery contract: {run.problem}")
    run.log_errors = server.logged_errors()
    if run.log_errors:
        say(f"  !! the {backend} server logged {len(run.log_errors)} error lines, first ones:")
        for line in run.log_errors[:10]:
            say(f"     {line}")
    return run


# -- one backend ----------------------------------------------------------------------------


@dataclass
class BackendRun:
    backend: str
    version: str
    seeded: Seeded | None = None
    floor: FloorRun | None = None
    api: ApiRun | None = None


def run_backend(
    backend: str, settings: Settings, queries: list[Query], workdir: Path
) -> BackendRun:
    version = backend_version(backend, settings.postgres_url)
    say(f"\n== {backend} {version}: {settings.creators:,} creators ==")
    found = BackendRun(backend, version)
    now = datetime.now(UTC)
    with fresh_database(backend, settings.postgres_url, workdir, "discovery") as url:
        found.seeded = seed(url, backend, settings, now)
        if "floor" in settings.layers:
            found.floor = run_floor(
                url,
                backend == "postgresql",
                found.seeded.organization_id,
                queries,
                f"{backend}: raw SQL floor",
                settings.max_seconds,
                settings.statement_timeout,
            )
            if found.floor.stopped_early:
                say(
                    f"  !! {backend}: the floor stopped after {settings.max_seconds:.0f} s "
                    f"(--max-seconds) with {len(found.floor.answers):,} of {len(queries):,} "
                    "searches answered; the comparison uses those"
                )
        if "api" in settings.layers:
            found.api = api_phase(url, backend, found.seeded, queries, settings, workdir)
            if found.api.stopped_early:
                say(
                    f"  !! {backend}: the API run stopped after {settings.max_seconds:.0f} s "
                    f"(--max-seconds) with {len(found.api.answers):,} searches answered"
                )
    return found


# -- rows, agreement and targets ------------------------------------------------------------


def stats_row(
    backend: str, layer: str, kind: str, latencies: list[float], errors: int, elapsed: float
) -> dict[str, Any]:
    ordered = sorted(latencies)

    def ms(pct: float) -> float | None:
        value = percentile(ordered, pct)
        return None if value is None else round(value * 1000, 3)

    return {
        "backend": backend,
        "layer": layer,
        "kind": kind,
        "queries": len(ordered),
        "errors": errors,
        "qps": round(len(ordered) / elapsed, 2) if elapsed > 0 and kind == "all" else None,
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "p99_ms": ms(99),
        "max_ms": None if not ordered else round(ordered[-1] * 1000, 3),
    }


def layer_rows(
    backend: str,
    layer: str,
    answers: dict[int, Answer],
    errors: dict[str, int],
    elapsed: float,
    kind_of: dict[int, str],
) -> list[dict[str, Any]]:
    """A row for the whole mix, then one per kind of search; `errors` by kind."""
    everything = [a.seconds for a in answers.values()]
    rows = [stats_row(backend, layer, "all", everything, sum(errors.values()), elapsed)]
    for kind in KINDS:
        latencies = [a.seconds for n, a in answers.items() if kind_of[n] == kind]
        if latencies or errors.get(kind):
            rows.append(stats_row(backend, layer, kind, latencies, errors.get(kind, 0), elapsed))
    return rows


def backend_rows(run: BackendRun, queries: list[Query]) -> list[dict[str, Any]]:
    kind_of = {q.n: q.kind for q in queries}
    rows = []
    if run.floor is not None:
        floor = run.floor
        errors: dict[str, int] = {}
        for n in floor.failures:
            errors[kind_of[n]] = errors.get(kind_of[n], 0) + 1
        found = layer_rows(run.backend, "floor", floor.answers, errors, floor.elapsed, kind_of)
        found[0]["stopped_early"] = floor.stopped_early
        found[0]["skipped_second_pages"] = len(floor.skipped)
        found[0]["error_examples"] = list(floor.failures.values())[:5]
        rows += found
    if run.api is not None and run.api.problem is None:
        api = run.api
        steps = api.tally.steps
        errors = {k: s.server_errors + s.other_errors + s.contention for k, s in steps.items()}
        found = layer_rows(run.backend, "api", api.answers, errors, api.elapsed, kind_of)
        found[0]["cpu"] = api.cpu
        found[0]["warmup_s"] = None if api.warmup_s is None else round(api.warmup_s, 2)
        found[0]["skipped_second_pages"] = len(api.skipped)
        found[0]["stopped_early"] = api.stopped_early
        found[0]["server_log_errors"] = len(api.log_errors)
        found[0]["error_examples"] = [e for s in steps.values() for e in s.examples][:5]
        rows += found
        add_floor_ratio(found, run, kind_of)
    return rows


def add_floor_ratio(rows: list[dict[str, Any]], run: BackendRun, kind_of: dict[int, str]) -> None:
    """On the API rows: the API's p50 over the floor's, over the searches both answered."""
    if run.floor is None or run.api is None:
        return
    both = sorted(set(run.floor.answers) & set(run.api.answers))
    for row in rows:
        numbers = [n for n in both if row["kind"] in ("all", kind_of[n])]
        if not numbers:
            continue
        api = percentile(sorted(run.api.answers[n].seconds for n in numbers), 50)
        floor = percentile(sorted(run.floor.answers[n].seconds for n in numbers), 50)
        if api and floor:
            row["vs_floor_p50"] = round(api / floor, 3)
            row["compared"] = len(numbers)


def nonzero(facets: dict[str, dict[str, int]] | None) -> dict[str, dict[str, int]]:
    """Facet counts without the zeros (the API lists every tier, the floor what it found)."""
    return {
        name: {k: v for k, v in (counts or {}).items() if v}
        for name, counts in (facets or {}).items()
    }


def agreement(run: BackendRun, queries: list[Query]) -> dict[str, Any] | None:
    """Where the API and the floor answered the same search: equal totals, equal facet
    counts, and the same first page (sorts the floor reproduces, without text)."""
    if run.floor is None or run.api is None or run.api.problem is not None:
        return None
    by_n = {q.n: q for q in queries}
    both = sorted(set(run.floor.answers) & set(run.api.answers))
    found: dict[str, Any] = {"compared": len(both)}
    differ: list[str] = []
    for group, text in (("without_text", False), ("with_text", True)):
        numbers = [n for n in both if ("q" in by_n[n].filters) == text]
        totals = [n for n in numbers if run.api.answers[n].total == run.floor.answers[n].total]
        found[f"totals_equal_{group}"] = f"{len(totals)}/{len(numbers)}"
        differ += [
            f"{by_n[n].describe()}: API total {run.api.answers[n].total:,}, floor "
            f"{run.floor.answers[n].total:,}"
            for n in numbers
            if n not in totals
        ][:5]
    faceted = [n for n in both if by_n[n].facets and "q" not in by_n[n].filters]
    same = [
        n
        for n in faceted
        if nonzero(run.api.answers[n].facets) == nonzero(run.floor.answers[n].facets)
    ]
    found["facets_equal_without_text"] = f"{len(same)}/{len(faceted)}"
    differ += [
        f"{by_n[n].describe()}: facets API {run.api.answers[n].facets}, floor "
        f"{run.floor.answers[n].facets}"
        for n in faceted
        if n not in same
    ][:3]
    ordered = [n for n in both if "q" not in by_n[n].filters]
    pages = [n for n in ordered if run.api.answers[n].ids == run.floor.answers[n].ids]
    found["pages_equal_without_text"] = f"{len(pages)}/{len(ordered)}"
    differ += [
        f"{by_n[n].describe()}: first ids API {run.api.answers[n].ids[:3]}, floor "
        f"{run.floor.answers[n].ids[:3]}"
        for n in ordered
        if n not in pages
    ][:5]
    found["examples_of_differences"] = differ[:12]
    return found


def target_lines(rows: list[dict[str, Any]], creators: int) -> list[str]:
    """One line per target of the issue: met or missed, with the numbers."""
    scale = "" if creators == TARGET_CREATORS else f" [at {creators:,} creators, not 1,000,000]"
    lines = []
    for row in rows:
        if row["layer"] != "api" or row["kind"] != "all":
            continue
        b = row["backend"]
        p95, p99 = row["p95_ms"], row["p99_ms"]
        ok = p95 is not None and p95 < TARGET_P95_MS
        lines.append(
            f"{b}: API p95 {fmt_ms(p95)} ms (target < {TARGET_P95_MS:g} ms): "
            f"{'met' if ok else 'MISSED'}{scale}"
        )
        ok = p99 is not None and p99 < TARGET_P99_MS
        lines.append(
            f"{b}: API p99 {fmt_ms(p99)} ms (target < {TARGET_P99_MS:g} ms): "
            f"{'met' if ok else 'MISSED'}{scale}"
        )
        ratio = row.get("vs_floor_p50")
        if ratio is None:
            lines.append(f"{b}: API p50 vs the raw SQL floor: not measured (no floor run)")
        else:
            ok = ratio <= TARGET_FLOOR_RATIO
            lines.append(
                f"{b}: API p50 is {ratio:.2f}x the raw SQL floor's over {row['compared']:,} "
                f"searches (target <= {TARGET_FLOOR_RATIO:g}x): {'met' if ok else 'MISSED'}{scale}"
            )
    return lines


# -- report ---------------------------------------------------------------------------------


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        *("backend", "layer", "searches", "done", "errors", "q/s", "p50 ms", "p95 ms"),
        *("p99 ms", "max ms", "API/floor p50", "cpu% srv/gen/pg/other"),
    )
    lines = []
    for row in rows:
        first = row["kind"] == "all"
        ratio = row.get("vs_floor_p50")
        lines.append(
            (
                row["backend"] if first else "",
                LAYER_NAMES[row["layer"]] if first else "",
                "all" if first else f"  {row['kind']}",
                f"{row['queries']:,}",
                str(row["errors"]),
                "" if row["qps"] is None else f"{row['qps']:,.1f}",
                *(fmt_ms(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                "" if ratio is None else f"{ratio:.2f}x",
                fmt_cpu(row.get("cpu")),
            )
        )
    return render_table(header, lines, left=3)


def other_cpu(row: dict[str, Any]) -> float:
    return float((row.get("cpu") or {}).get("other_pct") or 0.0)


def write_report(report: dict[str, Any], out: Path) -> int:
    """Print the table, phases and targets, write JSON and chart; 1 if anything failed."""
    rows = report["results"]
    print()
    print(table(rows))
    print()
    for backend in report["backends"]:
        print(backend["summary"])
    print()
    for line in report["targets"]:
        print(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nJSON:  {out}")
    chart = out.with_suffix(".png")
    if draw_chart(report, chart):
        print(f"chart: {chart}")
    print(f"total time: {report['runtime_s']:.0f} s")
    failed = [r for r in rows if r["kind"] == "all" and (r["errors"] or r.get("server_log_errors"))]
    for row in failed:
        say(
            f"!!! FAILURE {row['backend']} {LAYER_NAMES[row['layer']]}: {row['errors']} failed "
            f"searches, {row.get('server_log_errors', 0)} server log errors; examples: "
            f"{row.get('error_examples')}"
        )
    problems = [b for b in report["backends"] if b.get("api_problem")]
    for backend in problems:
        say(f"!!! {backend['backend']}: no API figures: {backend['api_problem']}")
    busy = [r for r in rows if other_cpu(r) > OTHER_CPU_WARNING]
    if busy:
        worst = max(other_cpu(r) for r in busy)
        say(
            f"!! other processes on this machine used up to {worst:.0f}% of a core during the "
            "API runs (the cpu% 'other' column): those numbers are low; rerun on a quiet machine"
        )
    return 1 if failed or problems else 0


def backend_summary(run: BackendRun, settings: Settings, queries: list[Query]) -> dict[str, Any]:
    seeded, api, floor = run.seeded, run.api, run.floor
    found: dict[str, Any] = {"backend": run.backend, "version": run.version}
    parts = [f"{run.backend}:"]
    if seeded is not None:
        found["seed_s"] = round(seeded.seconds, 1)
        found["seed_rate_per_s"] = round(settings.creators / seeded.seconds)
        found["brand_seed_s"] = round(seeded.brand_seconds, 1)
        found["worked_with"] = len(seeded.worked_with)
        parts.append(
            f"seeded {settings.creators:,} creators in {seeded.seconds:.0f} s "
            f"({settings.creators / seeded.seconds:,.0f}/s);"
        )
    if floor is not None:
        found["floor_s"] = round(floor.elapsed, 1)
        parts.append(f"floor {len(floor.answers):,} searches in {floor.elapsed:.0f} s;")
    if api is not None:
        found["api_problem"] = api.problem
        found["warmup_s"] = None if api.warmup_s is None else round(api.warmup_s, 2)
        found["server_rss_mib"] = api.rss_mib
        if api.warmup_s is not None:
            parts.append(f"API warm-up (first search, builds the index) {api.warmup_s:.1f} s;")
        if api.rss_mib.get("after_warmup"):
            parts.append(
                f"server memory {api.rss_mib.get('started') or 0:,.0f} MiB at start, "
                f"{api.rss_mib['after_warmup']:,.0f} MiB with the index;"
            )
        if api.problem is None:
            parts.append(f"API {len(api.answers):,} searches in {api.elapsed:.0f} s")
            if api.skipped:
                parts.append(f"({len(api.skipped)} second pages skipped: no first page)")
    found["agreement"] = run_agreement = agreement(run, queries)
    summary = " ".join(parts)
    if run_agreement:
        summary += (
            f"\n  agreement API vs floor over {run_agreement['compared']:,} searches: totals "
            f"{run_agreement['totals_equal_without_text']} without text, "
            f"{run_agreement['totals_equal_with_text']} with text; facets "
            f"{run_agreement['facets_equal_without_text']}; first page "
            f"{run_agreement['pages_equal_without_text']} (without text)"
        )
        for example in run_agreement["examples_of_differences"][:6]:
            summary += f"\n    differs: {example[:300]}"
    found["summary"] = summary
    return found


def per_query(runs: list[BackendRun], queries: list[Query]) -> list[dict[str, Any]]:
    """Every search with what each layer of each backend made of it."""
    found = []
    for query in queries:
        entry: dict[str, Any] = {
            "n": query.n,
            "kind": query.kind,
            "params": query.params(),
            "follows": query.follows,
        }
        for run in runs:
            for layer, answers in (
                ("floor", run.floor.answers if run.floor else {}),
                ("api", run.api.answers if run.api else {}),
            ):
                answer = answers.get(query.n)
                if answer is not None:
                    key = f"{run.backend}_{layer}"
                    entry[f"{key}_ms"] = round(answer.seconds * 1000, 3)
                    entry[f"{key}_total"] = answer.total
        found.append(entry)
    return found


def source_digest() -> str:
    """A digest of pappus's Python files: git_commit() does not see uncommitted changes, and
    src/ may change while a long run goes (the digest is taken at the start and the end)."""
    import pappus

    digest = hashlib.sha256()
    for path in sorted(Path(pappus.__file__).resolve().parent.rglob("*.py")):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_report(
    settings: Settings,
    runs: list[BackendRun],
    queries: list[Query],
    rows: list[dict[str, Any]],
    load_average: list[float] | None,
    started: float,
    digest_at_start: str,
) -> dict[str, Any]:
    import pappus

    source = Path(pappus.__file__).resolve().parent
    machine = machine_info()
    machine["load_average_at_start"] = load_average
    machine["backends"] = {r.backend: r.version for r in runs}
    machine["packages"] = package_versions(PACKAGES)
    kinds = {kind: sum(1 for q in queries if q.kind == kind) for kind in KINDS}
    return {
        "benchmark": "discovery",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python bench/discovery.py", *sys.argv[1:]]),
        "pappus_source": str(source),
        "git_commit": git_commit(source),
        "source_digest": {"start": digest_at_start, "end": source_digest()},
        "runtime_s": round(time.monotonic() - started, 1),
        "settings": {
            "backends": settings.backends,
            "layers": settings.layers,
            "creators": settings.creators,
            "queries": settings.queries,
            "query_kinds": kinds,
            "text_queries": sum(1 for q in queries if "q" in q.filters),
            "clients": settings.clients,
            "max_seconds": settings.max_seconds,
            "warmup_timeout_s": settings.warmup_timeout,
            "statement_timeout_s": settings.statement_timeout,
            "world_seed": WORLD_SEED,
            "mix_seed": settings.seed,
            "worked_with": WORKED_WITH,
        },
        "targets": target_lines(rows, settings.creators),
        "machine": machine,
        "backends": [backend_summary(run, settings, queries) for run in runs],
        "results": rows,
        "queries": per_query(runs, queries),
    }


# -- command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/discovery.py",
        description=(
            "Benchmark creator discovery (GET /api/v1/creators) at a million creators on SQLite\n"
            "and PostgreSQL: a fixed, seeded mix of realistic searches through the real API\n"
            "under uvicorn, beside the same searches as raw SQL on the same database (the\n"
            "floor). Prints p50/p95/p99 and searches per second, judges the targets, writes\n"
            "JSON and a PNG chart beside it. Only 127.0.0.1 is contacted. See\n"
            "docs/benchmarks.md."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--creators",
        type=int,
        default=TARGET_CREATORS,
        help="creators to seed (default: %(default)s)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=1000,
        help="searches in the mix (default: %(default)s)",
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated list of sqlite, postgresql (default: %(default)s)",
    )
    parser.add_argument(
        "--layers",
        default="floor,api",
        help="comma-separated list of floor, api (default: %(default)s)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=1,
        help="concurrent HTTP clients running the mix (default: %(default)s: latency)",
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
        "(default: bench/results/discovery.json)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=900.0,
        help="time limit of each timed phase (the floor, the API run) per backend; a phase "
        "that reaches it stops and reports what it did (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup-timeout",
        type=float,
        default=600.0,
        help="seconds the first search (the index build) may take (default: %(default)s)",
    )
    parser.add_argument(
        "--statement-timeout",
        type=float,
        default=60.0,
        help="seconds one floor statement may take before it counts as failed "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="processes generating creators while seeding (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=MIX_SEED,
        help="seed of the query mix (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    args.backends = split_list(parser, "--backends", args.backends, ("sqlite", "postgresql"))
    args.layers = split_list(parser, "--layers", args.layers, LAYERS)
    if min(args.creators, args.queries, args.clients, args.processes) < 1:
        parser.error("--creators, --queries, --clients and --processes must be positive")
    if min(args.max_seconds, args.warmup_timeout, args.statement_timeout) <= 0:
        parser.error("--max-seconds, --warmup-timeout and --statement-timeout must be positive")
    return args


def _stop_on_sigterm(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # so every finally block runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    settings = Settings(
        args.backends,
        args.layers,
        args.creators,
        args.queries,
        args.clients,
        args.postgres_url,
        args.max_seconds,
        args.warmup_timeout,
        args.statement_timeout,
        args.processes,
        args.seed,
    )
    load_average = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if load_average and load_average[0] > 0.5:
        say(f"!! the machine is busy before the run (load average {load_average[0]:.1f})")
    world = w.WorldSpec(seed=WORLD_SEED, accounts=settings.creators)
    queries = make_mix(settings.queries, settings.seed, world)
    texts = sum(1 for q in queries if "q" in q.filters)
    say(
        f"query mix: {len(queries):,} searches ("
        + ", ".join(f"{sum(1 for q in queries if q.kind == k)} {k}" for k in KINDS)
        + f"; {texts} with text), seed {settings.seed}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="pappus-bench-discovery-"))
    # The brand's deposit enqueues a job: keep its queue file in the temp dir (set before
    # anything imports pappus's settings).
    os.environ["PAPPUS_JOBS_SQLITE_PATH"] = str(workdir / "seed-jobs.db")
    started = time.monotonic()
    digest = source_digest()
    runs: list[BackendRun] = []
    try:
        for backend in settings.backends:
            runs.append(run_backend(backend, settings, queries, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = [row for run in runs for row in backend_rows(run, queries)]
    report = build_report(settings, runs, queries, rows, load_average, started, digest)
    if report["source_digest"]["end"] != digest:
        say(
            "!! pappus's source files changed during the run: the backends may have run "
            "different code"
        )
    return write_report(report, args.out)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted: the servers were stopped and the databases dropped")
        sys.exit(130)
