"""Serving an ASGI app with uvicorn: one process, or several workers that each accept on their
own listening socket.

uvicorn's `--workers` shares one listening socket among its workers, and whichever worker wakes
first accepts every connection that is waiting. Clients that keep their connections open (a
reverse proxy's upstream pool, a load generator) then all land on one worker while the others
idle: with two workers and eight keep-alive clients, one worker served nearly everything
(`docs/benchmarks.md`). On Linux each worker here gets its own socket bound with
`SO_REUSEPORT`, and the kernel spreads new connections over them by a hash of the client's
address and port. The sockets are made and kept by the supervisor, so a worker that dies and is
replaced takes over the same socket, and connections queued on it in the meantime are not lost.
Elsewhere, uvicorn's own supervisor is used.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from types import FrameType
from typing import Any

logger = logging.getLogger("pappus.serving")

# uvicorn exits with this code when the app cannot start (import error, failing lifespan).
STARTUP_FAILURE = 3
# A worker that exits sooner than this after its start is restarted with back-off. Until a
# worker of its slot has once run longer, a startup failure (or two quick exits in a row)
# stops the server: the app cannot start, and restarting it forever would hide that.
QUICK_EXIT_SECONDS = 5.0
STOP_GRACE_SECONDS = 15.0
BACKLOG = 2048


@dataclass(frozen=True)
class ServeOptions:
    """What each worker passes to uvicorn.Config."""

    app: str
    factory: bool = False
    app_dir: str | None = None
    log_level: str = "info"
    access_log: bool = True


def balanced_workers_supported() -> bool:
    """SO_REUSEPORT spreads connections over sockets on Linux; elsewhere it does not."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def run(options: ServeOptions, *, host: str, port: int, workers: int = 1) -> int:
    """Serve until stopped (SIGINT or SIGTERM); the exit code."""
    import uvicorn

    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers > 1 and balanced_workers_supported():
        try:
            sockets = reuse_port_sockets(host, port, workers)
        except OSError as exc:
            logger.error("%s", exc.strerror or exc)
            return 1
        return Supervisor(options, sockets).run()
    uvicorn.run(
        options.app,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        factory=options.factory,
        app_dir=options.app_dir,
        log_level=options.log_level,
        access_log=options.access_log,
    )
    return 0


def reuse_port_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one address, each with SO_REUSEPORT. Port 0 picks a free
    port for the first and binds the others to the same.

    They listen at once, before their workers are ready: the kernel spreads connections over
    all of them from the first moment, and those that reach a worker still starting wait in
    its queue. Listening only once ready would send every early keep-alive connection to the
    first worker up, for good.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    if port != 0:
        _refuse_if_taken(family, kind, proto, address)
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            address = sock.getsockname()
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _refuse_if_taken(family: int, kind: int, proto: int, address: Any) -> None:
    """SO_REUSEPORT would let us bind beside another server of the same user on this port
    and split its connections with it; a probe without it fails as plain uvicorn would."""
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            where = f"{address[0]}:{address[1]}"
            raise OSError(exc.errno, f"cannot listen on {where}: {exc.strerror}") from exc


def _worker(options: ServeOptions, sock: socket.socket, supervisor_pid: int) -> None:
    """The body of one worker process: uvicorn serving on the socket it was given."""
    import uvicorn

    _stop_with_supervisor(supervisor_pid)
    if options.app_dir is not None:
        sys.path.insert(0, options.app_dir)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        options.app,
        host=host,  # for its log line only: it serves on the socket
        port=port,
        factory=options.factory,
        log_level=options.log_level,
        access_log=options.access_log,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _stop_with_supervisor(supervisor_pid: int) -> None:
    """Linux: SIGTERM this worker when its supervisor dies, even by SIGKILL, so no worker is
    left serving on its own."""
    if not sys.platform.startswith("linux"):
        return
    with suppress(OSError, AttributeError):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor_pid:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class _Slot:
    sock: socket.socket
    process: Any = None  # multiprocessing.process.BaseProcess
    started_at: float = 0.0
    quick_exits: int = 0
    # Whether a worker of this slot ever ran past QUICK_EXIT_SECONDS: until then a failing
    # start means the app cannot start at all; after it, a passing outage (the database
    # down while a replacement starts) must not stop the healthy workers.
    ever_ran: bool = False
    restart_at: float | None = None


class Supervisor:
    """Starts one worker per socket, replaces workers that die, and stops them all on SIGINT or
    SIGTERM (uvicorn then finishes the requests in flight)."""

    def __init__(self, options: ServeOptions, sockets: Sequence[socket.socket]) -> None:
        self.options = options
        self.slots = [_Slot(sock) for sock in sockets]
        # spawn, as uvicorn does: a fork of this process would carry its state into the worker.
        self.context = multiprocessing.get_context("spawn")
        self.stopping = False
        self.exit_code = 0

    def run(self) -> int:
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            host, port = self.slots[0].sock.getsockname()[:2]
            logger.info(
                "serving %s on http://%s:%s with %d workers, one SO_REUSEPORT socket each",
                self.options.app,
                host,
                port,
                len(self.slots),
            )
            for slot in self.slots:
                self._start(slot)
            while not self.stopping:
                sentinels = [s.process.sentinel for s in self.slots if s.restart_at is None]
                multiprocessing.connection.wait(sentinels, timeout=0.5)
                for slot in self.slots:
                    if self.stopping:
                        break
                    if slot.restart_at is not None:
                        if time.monotonic() >= slot.restart_at:
                            slot.restart_at = None
                            self._start(slot)
                    elif not slot.process.is_alive():
                        self._replace(slot)
        finally:
            # New connections are refused from here on, not left waiting on a worker that
            # is finishing its last requests.
            for slot in self.slots:
                slot.sock.close()
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.exit_code

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self, slot: _Slot) -> None:
        slot.process = self.context.Process(
            target=_worker, args=(self.options, slot.sock, os.getpid()), name="pappus-worker"
        )
        slot.process.start()
        slot.started_at = time.monotonic()

    def _replace(self, slot: _Slot) -> None:
        code = slot.process.exitcode
        slot.process.join()
        quick = time.monotonic() - slot.started_at < QUICK_EXIT_SECONDS
        slot.ever_ran = slot.ever_ran or not quick
        slot.quick_exits = slot.quick_exits + 1 if quick else 0
        if not slot.ever_ran and (code == STARTUP_FAILURE or slot.quick_exits >= 2):
            logger.error(
                "worker %s exited with code %s while starting; stopping the server",
                slot.process.pid,
                code,
            )
            self.exit_code = STARTUP_FAILURE
            self.stopping = True
            return
        # Back off while replacements keep failing, instead of restarting in a tight loop.
        delay = min(30.0, 2.0 ** (slot.quick_exits - 1)) if quick else 0.0
        logger.warning(
            "worker %s exited with code %s; starting another in %.0f s",
            slot.process.pid,
            code,
            delay,
        )
        slot.restart_at = time.monotonic() + delay

    def _stop_all(self) -> None:
        running = [
            s.process
            for s in self.slots
            if s.process is not None and s.restart_at is None and s.process.is_alive()
        ]
        for process in running:
            os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pappus.serving",
        description="Serve an ASGI app with uvicorn; with --workers above 1 on Linux, each worker "
        "accepts on its own SO_REUSEPORT socket, so keep-alive clients spread over all of them. "
        "`pappus serve` uses this for the Pappus app.",
        epilog="Example: python -m pappus.serving pappus.app:create_app --factory --workers 2",
    )
    parser.add_argument("app", help="import string of the app, module:attribute")
    parser.add_argument("--factory", action="store_true", help="the attribute builds the app")
    parser.add_argument("--app-dir", help="a folder to put first on sys.path")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s: %(message)s")
    options = ServeOptions(
        app=args.app,
        factory=args.factory,
        app_dir=args.app_dir,
        log_level=args.log_level,
        access_log=not args.no_access_log,
    )
    return run(options, host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    sys.exit(main())
