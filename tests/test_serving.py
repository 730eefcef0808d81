"""`python -m pappus.serving` (and so `pappus serve --workers`): workers each on their own
SO_REUSEPORT socket share the connections, are replaced when they die, and stop together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from pappus import serving

pytestmark = pytest.mark.skipif(
    not serving.balanced_workers_supported(), reason="SO_REUSEPORT balancing is Linux only"
)

# A bare ASGI app that answers with the pid of the worker that served the request.
PID_APP = """
import os


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def supervisor(
    tmp_path: Path, app: str, workers: int
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    (tmp_path / "pid_app.py").write_text(PID_APP)
    port = free_port()
    command = [
        *(sys.executable, "-m", "pappus.serving", app, "--app-dir", str(tmp_path)),
        *("--port", str(port), "--workers", str(workers), "--log-level", "warning"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield process, f"http://127.0.0.1:{port}/"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def served_by(url: str, timeout: float = 30.0) -> int:
    """The pid that answers one request on a new connection, waiting for the server to be up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return int(httpx.get(url, timeout=2.0).text)
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not serving: it is only waiting to be reaped.
    with suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def test_new_connections_spread_over_every_worker(tmp_path: Path) -> None:
    with supervisor(tmp_path, "pid_app:app", workers=2) as (process, url):
        pids = {served_by(url) for _ in range(40)}
        assert len(pids) == 2, pids
        assert process.poll() is None


def test_a_worker_that_dies_is_replaced_on_the_same_port(tmp_path: Path) -> None:
    with supervisor(tmp_path, "pid_app:app", workers=2) as (_process, url):
        before = {served_by(url) for _ in range(40)}
        killed = before.pop()
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 30
        after: set[int] = set()
        while len(after) < 2 and time.monotonic() < deadline:
            after.add(served_by(url))
        assert killed not in after
        assert len(after) == 2 and before < after


def test_sigterm_stops_the_supervisor_and_its_workers(tmp_path: Path) -> None:
    with supervisor(tmp_path, "pid_app:app", workers=2) as (process, url):
        pids = {served_by(url) for _ in range(40)}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids)
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2.0)


def test_an_app_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    with supervisor(tmp_path, "no_such_module:app", workers=2) as (process, _url):
        assert process.wait(timeout=60) == serving.STARTUP_FAILURE
        assert process.stdout is not None
        assert b"stopping the server" in process.stdout.read()


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        serving.run(serving.ServeOptions("pid_app:app"), host="127.0.0.1", port=0, workers=0)
    with pytest.raises(SystemExit):
        serving.main(["pid_app:app", "--workers", "0"])


def test_a_port_already_taken_is_refused_not_shared(tmp_path: Path) -> None:
    # SO_REUSEPORT alone would bind beside another server and split its connections.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "pid_app.py").write_text(PID_APP)
        result = subprocess.run(
            [
                *(sys.executable, "-m", "pappus.serving", "pid_app:app"),
                *("--app-dir", str(tmp_path), "--port", str(port), "--workers", "2"),
            ],
            capture_output=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}".encode() in result.stderr
