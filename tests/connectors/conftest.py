"""A real sandbox platform for the connector tests: the sandbox app under uvicorn on a free
127.0.0.1 port, in a thread, reached by Pappus over HTTP as in production."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from pappus.config import get_settings
from pappus.kit.clock import now
from pappus.sandbox.app import SandboxConfig
from pappus.sandbox.server import start_in_thread
from pappus.sandbox.world import WorldSpec

STAFF_KEY = "test-staff-key"
CLIENT_SECRET = "test-client-secret"
WORLD = WorldSpec(seed=11, accounts=400, fraud_share=0.15, today=date(2026, 11, 30))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sandbox:
    def __init__(self, url: str, config: SandboxConfig) -> None:
        self.url, self.config = url, config

    def faults(self, **values: float) -> None:
        response = httpx.put(
            f"{self.url}/staff/v1/faults", json=values, headers={"X-Staff-Key": STAFF_KEY}
        )
        response.raise_for_status()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    # The platform keeps Pappus's clock, so a post's metrics grow as a test advances time.
    config = SandboxConfig(spec=WORLD, client_secret=CLIENT_SECRET, staff_key=STAFF_KEY, clock=now)
    running = start_in_thread(config, port=_free_port())
    try:
        yield Sandbox(running.url, config)
    finally:
        running.stop()


@pytest.fixture
def sandbox(sandbox_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox, with Pappus configured to use it and no faults injected."""
    monkeypatch.setenv("PAPPUS_SANDBOX_URL", sandbox_server.url)
    monkeypatch.setenv("PAPPUS_SANDBOX_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("PAPPUS_CONNECTOR_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    sandbox_server.faults(failure_rate=0.0, slow_rate=0.0, slow_seconds=5.0)
    yield sandbox_server
    sandbox_server.faults(failure_rate=0.0, slow_rate=0.0, slow_seconds=5.0)
    monkeypatch.undo()
    get_settings.cache_clear()
