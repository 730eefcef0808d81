"""Run the sandbox platform in a background thread of this process (for `pappus demo` and
the tests); `pappus sandbox` serves it on its own."""

from __future__ import annotations

import threading
import time

import uvicorn

from pappus.sandbox.app import SandboxConfig, create_sandbox_app


class RunningSandbox:
    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server, self.thread, self.url = server, thread, url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_in_thread(
    config: SandboxConfig, host: str = "127.0.0.1", port: int = 8100, timeout: float = 20.0
) -> RunningSandbox:
    """Serve the sandbox on host:port from a daemon thread; returns once it accepts
    connections, or raises RuntimeError (e.g. the port is taken)."""
    server = uvicorn.Server(
        uvicorn.Config(create_sandbox_app(config), host=host, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="pappus-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the sandbox platform could not serve on {host}:{port}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the sandbox platform did not start within {timeout:.0f} s")
        time.sleep(0.05)
    return RunningSandbox(server, thread, f"http://{host}:{port}")
