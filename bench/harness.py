"""Shared pieces of the HTTP benchmarks in bench/: a progress line, per-step latency
statistics, a time-bounded async load loop, uvicorn servers in subprocesses that are always
stopped, a CPU meter, machine facts and a plain-text table."""

from __future__ import annotations

import asyncio
import ctypes
import importlib.metadata
import json
import math
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx

BENCH_DIR = Path(__file__).resolve().parent


# -- progress -------------------------------------------------------------------------------


class Progress:
    """One self-overwriting status line on a terminal; when piped, a line per quarter (or
    only the final line with `quiet_when_piped`). `transient` lines vanish when done."""

    def __init__(
        self,
        label: str,
        total: float,
        unit: str = "",
        *,
        transient: bool = False,
        quiet_when_piped: bool = False,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.transient, self.quiet_when_piped = transient, quiet_when_piped
        self.tty = sys.stderr.isatty()
        self._last_draw = 0.0
        self._last_quarter = 0
        self.count = 0

    def advance(self, amount: int = 1) -> None:
        self.count += amount
        self.update(self.count)

    def update(self, done: float, note: str = "") -> None:
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= 0.2:
                self._last_draw = now
                sys.stderr.write("\r" + self._line(done, note)[:118].ljust(118))
                sys.stderr.flush()
            return
        quarter = int(4 * min(done, self.total) / self.total) if self.total else 4
        if not self.quiet_when_piped and 0 < quarter < 4 and quarter != self._last_quarter:
            self._last_quarter = quarter
            say(self._line(done, note))

    def done(self, note: str = "") -> None:
        if self.tty:
            if self.transient:
                sys.stderr.write("\r" + " " * 118 + "\r")
            else:
                sys.stderr.write("\r" + self._line(self.total, note)[:118].ljust(118) + "\n")
            sys.stderr.flush()
        elif not self.transient:
            say(self._line(self.total, note))

    def _line(self, done: float, note: str) -> str:
        width = 20
        filled = int(width * min(done, self.total) / self.total) if self.total else width
        amount = f"{done:.1f}" if isinstance(done, float) else f"{done:,}"
        total = f"{self.total:.1f}" if isinstance(self.total, float) else f"{self.total:,}"
        bar = "#" * filled + "." * (width - filled)
        return f"  {self.label:<38} [{bar}] {amount}/{total}{self.unit} {note}".rstrip()


def say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# -- statistics -----------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class StepStats:
    """Latencies of the successful calls of one step and what went wrong with the others."""

    latencies: list[float] = field(default_factory=list)
    contention: int = 0  # 409 and 503: a lost race or a busy database, retryable by design
    server_errors: int = 0  # any other 5xx, and transport failures: always a bug
    other_errors: int = 0  # other 4xx: the benchmark asked for something wrong
    examples: list[str] = field(default_factory=list)

    def ok(self, seconds: float) -> None:
        self.latencies.append(seconds)

    def failed(self, status: int | None, text: str) -> None:
        if status in (409, 503):
            self.contention += 1
        elif status is None or status >= 500:
            self.server_errors += 1
        else:
            self.other_errors += 1
        if len(self.examples) < 3:
            self.examples.append(f"{status}: {text[:300]}")

    def row(self, backend: str, scenario: str, unit: str, elapsed: float) -> dict[str, Any]:
        """One result row: rate of successful calls over `elapsed`, percentiles in ms."""
        ordered = sorted(self.latencies)

        def ms(pct: float) -> float | None:
            value = percentile(ordered, pct)
            return None if value is None else round(value * 1000, 4)

        return {
            "backend": backend,
            "scenario": scenario,
            "unit": unit,
            "rate": round(len(ordered) / elapsed, 2) if elapsed > 0 else 0.0,
            "ok": len(ordered),
            "contention_409_503": self.contention,
            "server_errors_5xx": self.server_errors,
            "other_errors": self.other_errors,
            "elapsed_s": round(elapsed, 3),
            "p50_ms": ms(50),
            "p95_ms": ms(95),
            "p99_ms": ms(99),
            "error_examples": list(self.examples),
        }


class Tally:
    """Per-step statistics of one timed load phase."""

    def __init__(self) -> None:
        self.steps: dict[str, StepStats] = {}

    def step(self, name: str) -> StepStats:
        return self.steps.setdefault(name, StepStats())

    def count(self) -> int:
        return sum(len(s.latencies) for s in self.steps.values())


@dataclass(frozen=True)
class Reply:
    """What a job reads of a response: its status and its body."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class LoadClient:
    """The load generator's HTTP client: aiohttp, keep-alive connections to one server.

    Not httpx, which the benchmarks use elsewhere: its pure-Python stack cost the load
    generator 1.9 to 2.1 ms of CPU per request against 0.2 to 0.26 ms for aiohttp (8 clients
    against the raw-ASGI hello app), and the generator shares the machine's two cores with
    the server it measures. Takes httpx's keywords that the jobs use: headers, json, data,
    params."""

    def __init__(self, base_url: str, concurrency: int, timeout: float = 60.0) -> None:
        self._session = aiohttp.ClientSession(
            base_url=base_url,
            connector=aiohttp.TCPConnector(limit=concurrency),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def request(self, method: str, url: str, **kwargs: Any) -> Reply:
        async with self._session.request(method, url, **kwargs) as response:
            return Reply(response.status, await response.read())

    async def close(self) -> None:
        await self._session.close()


async def call(
    client: LoadClient,
    tally: Tally,
    step: str,
    method: str,
    url: str,
    expect: int,
    **kwargs: Any,
) -> Reply | None:
    """One timed request; the response if it had the expected status, else None (counted)."""
    stats = tally.step(step)
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except (aiohttp.ClientError, TimeoutError) as exc:
        stats.failed(None, f"{type(exc).__name__}: {exc}")
        return None
    if response.status_code == expect:
        stats.ok(time.perf_counter() - started)
        return response
    stats.failed(response.status_code, response.text)
    return None


# -- the load loop --------------------------------------------------------------------------


class WorkRanOut(Exception):
    """Raised by a job when the seeded work it consumes is used up."""


# job(client, tally, worker index): one unit of work, e.g. a request or a whole workflow
Job = Callable[[LoadClient, Tally, int], Awaitable[None]]


@dataclass
class LoadResult:
    tally: Tally
    elapsed: float
    ran_out: bool
    cpu: dict[str, float | None]


async def _load(
    base_url: str, progress: Progress, seconds: float, concurrency: int, job: Job
) -> tuple[Tally, float, bool]:
    tally = Tally()
    ran_out = False
    client = LoadClient(base_url, concurrency)
    try:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(index: int) -> None:
            nonlocal ran_out
            while time.perf_counter() < deadline and not ran_out:
                try:
                    await job(client, tally, index)
                except WorkRanOut:
                    ran_out = True

        async def report() -> None:
            while True:
                await asyncio.sleep(0.25)
                elapsed = min(time.perf_counter() - started, seconds)
                progress.update(round(elapsed, 1), f"{tally.count():,} ok")

        reporter = asyncio.create_task(report())
        try:
            await asyncio.gather(*(worker(i) for i in range(concurrency)))
        finally:
            reporter.cancel()
            with suppress(asyncio.CancelledError):
                await reporter
        return tally, time.perf_counter() - started, ran_out
    finally:
        await client.close()


def run_load(
    base_url: str,
    label: str,
    seconds: float,
    concurrency: int,
    job: Job,
    *,
    server_pid: int | None = None,
    transient: bool = False,
) -> LoadResult:
    """Run `job` in a loop from `concurrency` clients until `seconds` pass; no job starts
    after that and the running ones finish (their time counts). Bounded by construction."""
    progress = Progress(label, round(seconds, 1), " s", transient=transient, quiet_when_piped=True)
    meter = CpuMeter(server_pid)
    tally, elapsed, ran_out = asyncio.run(_load(base_url, progress, seconds, concurrency, job))
    cpu = meter.read()
    progress.done(f"{tally.count():,} ok in {elapsed:.1f} s")
    return LoadResult(tally, elapsed, ran_out, cpu)


# -- CPU ------------------------------------------------------------------------------------


def _process_cpu_seconds(pid: int, *, children: bool = True) -> float | None:
    """User + system CPU of a process and (with `children`) its live children, e.g. the
    server's worker processes (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12])
    if not children:
        return ticks / os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            child = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(child[1]) == pid:  # the parent pid
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float | None:
    """CPU seconds spent not idle by all cores together (Linux /proc/stat)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The PostgreSQL database of the run: its backends count as "pg", other databases' as "other".
_watched_postgres_database: str | None = None


def watch_postgres_database(name: str | None) -> None:
    global _watched_postgres_database
    _watched_postgres_database = name


def _postgres_cpu_seconds() -> dict[int, float] | None:
    """CPU per process of the server's own processes (postmaster, WAL writer, checkpointer,
    ...) and of the backends connected to the watched database; None when not watching."""
    database = _watched_postgres_database
    if database is None:
        return None
    found: dict[int, float] = {}
    with suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with suppress(OSError):
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                command = (entry / "cmdline").read_text(errors="replace")
                client_backend = "(" in command  # "postgres: user db 127.0.0.1(port) ..."
                if not client_backend or f" {database} " in command:
                    # Each process alone: every backend is the postmaster's child, and
                    # counting children too counted every backend twice (over 200%).
                    cpu = _process_cpu_seconds(int(entry.name), children=False)
                    found[int(entry.name)] = cpu or 0.0
    return found


class CpuMeter:
    """CPU used during a phase, in % of one core: the server process, this process (the load
    generator), PostgreSQL's processes, and everything else on the machine ("other": someone
    else's work, which makes the numbers of this run low)."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.started = time.perf_counter()
        self.postgres: dict[int, float] | None = None
        self.before = self._sample()

    def _sample(self) -> dict[str, float | None]:
        self.postgres = _postgres_cpu_seconds()
        return {
            "server": _process_cpu_seconds(self.server_pid) if self.server_pid else None,
            "load_generator": _self_cpu_seconds(),
            "machine": _machine_busy_seconds(),
        }

    def read(self) -> dict[str, float | None]:
        wall = time.perf_counter() - self.started
        postgres_before = self.postgres
        after = self._sample()
        used: dict[str, float | None] = {}
        for key, before in self.before.items():
            now = after[key]
            ok = before is not None and now is not None and wall > 0
            used[key] = round(100 * (now - before) / wall, 1) if ok else None  # type: ignore[operator]
        used["postgres"] = None
        if postgres_before is not None and self.postgres is not None and wall > 0:
            # Processes that started during the phase count whole; ones that ended are lost.
            spent = sum(t - postgres_before.get(p, 0.0) for p, t in self.postgres.items())
            used["postgres"] = round(100 * max(0.0, spent) / wall, 1)
        known = sum(v or 0.0 for k, v in used.items() if k != "machine")
        machine = used["machine"]
        return {
            "server_pct": used["server"],
            "load_generator_pct": used["load_generator"],
            "postgres_pct": used["postgres"],
            "other_pct": None if machine is None else round(max(0.0, machine - known), 1),
            "machine_pct": machine,
        }


# -- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the benchmark dies without cleaning up."""
    with suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def logged_errors(self) -> list[str]:
        with suppress(OSError):
            text = self.log_path.read_text(errors="replace")
            return [line for line in text.splitlines() if "Traceback" in line or "ERROR" in line]
        return []


@contextmanager
def serve(
    app_factory: str,
    env: dict[str, str],
    workdir: Path,
    health_path: str,
    name: str,
    workers: int = 1,
) -> Iterator[Server]:
    """`uvicorn APP --factory` (uvloop and httptools when installed, no access log) in a
    subprocess on a free 127.0.0.1 port; stopped on the way out, whatever happens. With more
    than one worker, `python -m pappus.serving`, as `pappus serve --workers` does: on Linux
    each worker accepts on its own SO_REUSEPORT socket."""
    port = free_port()
    log_path = workdir / f"{name}-server.log"
    server = ("uvicorn",) if workers == 1 else ("pappus.serving", "--workers", str(workers))
    command = [
        *(sys.executable, "-m", *server, app_factory, "--factory"),
        *("--app-dir", str(BENCH_DIR), "--host", "127.0.0.1", "--port", str(port)),
        *("--no-access-log", "--log-level", "warning"),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_up(server, health_path)
        yield server
    finally:
        stop(process)


def _wait_until_up(server: Server, health_path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{server.log_tail()}")
        with suppress(httpx.HTTPError):
            if httpx.get(server.base_url + health_path, timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{server.log_tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL after 15 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # uvicorn's worker processes first, while they are still known as its children.
        for pid in _child_pids(process.pid):
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait(timeout=5)


def _child_pids(pid: int) -> list[int]:
    """The live children of a process we started (Linux /proc; empty elsewhere)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
    return children


# -- machine facts --------------------------------------------------------------------------


def package_versions(names: Sequence[str]) -> dict[str, str]:
    versions = {}
    for name in names:
        with suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions


def cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    memory = None
    with suppress(ValueError, OSError, AttributeError):
        memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def git_commit(path: Path) -> str | None:
    """The commit checked out where `path` lives (read-only), or None outside a repository."""
    with suppress(OSError, subprocess.SubprocessError):
        result = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return result.stdout.strip() or None
    return None


# -- table ----------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def fmt_rate(rate: float, unit: str) -> str:
    number = f"{rate:,.1f}" if rate < 100 else f"{rate:,.0f}"
    return f"{number} {unit}"


def render_table(header: Sequence[str], lines: Sequence[Sequence[str]], left: int = 2) -> str:
    """Columns padded to their widest cell; the first `left` columns left-aligned."""
    widths = [max(len(c) for c in column) for column in zip(header, *lines, strict=True)]

    def render(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([render(header), rule, *(render(line) for line in lines)])
