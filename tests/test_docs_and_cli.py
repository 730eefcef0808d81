"""The docs cannot drift from the code, and the CLI works as the README says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pappus.cli import app as cli
from pappus.orders.workflow import mermaid

ROOT = Path(__file__).resolve().parents[1]


def test_architecture_doc_holds_the_generated_state_diagram() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert "```mermaid\n" + mermaid() + "```" in doc, (
        "docs/architecture.md is stale: paste the output of `pappus workflow diagram`"
    )


def test_readme_gives_exactly_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    commands = [
        line
        for line in setup.splitlines()
        if line and not line.startswith(("```", " ")) and line.startswith("pip ")
    ]
    assert commands == ["pip install -e . && pappus demo", 'pip install -e ".[test]" && pytest']


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["demo"],
        ["serve"],
        ["migrate"],
        ["worker"],
        ["sweep"],
        ["staff", "create"],
        ["workflow", "diagram"],
        ["workflow", "table"],
        ["version"],
        ["ledger", "check"],
        ["sandbox"],
        ["vet"],
        ["vet", "followers"],
        ["vet", "train"],
        ["sentiment"],
        ["sentiment-train"],
        ["outbox"],
    ],
)
def test_every_command_has_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_workflow_diagram_command_prints_the_table_diagram() -> None:
    result = CliRunner().invoke(cli, ["workflow", "diagram"])
    assert result.exit_code == 0
    assert result.output == mermaid()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_serves_and_every_demo_login_works(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPPUS_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pappus.cli",
            "demo",
            "--port",
            str(port),
            "--path",
            str(tmp_path / "demo.db"),
            "--sandbox-port",
            str(_free_port()),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded CI machine builds the demo slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("pappus demo did not start within 60 s")
        states = set()
        for email in [
            "brand@demo.pappus.dev",
            "viewer@demo.pappus.dev",
            "staff@demo.pappus.dev",
            "creator1@demo.pappus.dev",
        ]:
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": email, "password": "pappus-demo-2026"},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert httpx.get(f"{base}/api/v1/me", headers=headers).status_code == 200
            orders = httpx.get(f"{base}/api/v1/orders?limit=100", headers=headers).json()
            states |= {o["state"] for o in orders["items"]}
        assert states >= {
            "awaiting_draft",
            "draft_review",
            "changes_requested",
            "approved",
            "published",
            "completed",
            "cancelled",
            "disputed",
        }
        assert "/api/v1/orders/{order_id}" in httpx.get(f"{base}/openapi.json").json()["paths"]
        # and the demo creators' accounts were linked on the sandbox by OAuth, and synced
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "creator1@demo.pappus.dev", "password": "pappus-demo-2026"},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        linked = httpx.get(f"{base}/api/v1/creators/me/social-accounts", headers=headers).json()
        assert [a["status"] for a in linked["items"]] == ["active"]
        assert linked["items"][0]["last_synced_at"] is not None
        profile = httpx.get(f"{base}/api/v1/creators/me", headers=headers).json()
        assert profile["primary_platform"] == "sandbox"
        assert profile["followers"] == linked["items"][0]["followers"] >= 1_000
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("pappus demo did not stop on SIGTERM")
    assert "brand@demo.pappus.dev" in output
    check = subprocess.run(
        [sys.executable, "-m", "pappus.cli", "ledger", "check"],
        env={**env, "PAPPUS_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0 and "ledger ok" in check.stdout, check.stderr
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output


def test_staff_create_and_migrate_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PAPPUS_DATABASE_URL", url)
    monkeypatch.setenv("PAPPUS_STAFF_PASSWORD", "a long staff password")
    from pappus import jobs
    from pappus.config import get_settings
    from pappus.db import Database

    get_settings.cache_clear()
    jobs.use_database(Database(url))
    try:
        runner = CliRunner()
        result = runner.invoke(cli, ["migrate"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(cli, ["staff", "create", "ops@example.com", "--role", "admin"])
        assert result.exit_code == 0, result.output
        again = runner.invoke(cli, ["staff", "create", "ops@example.com"])
        assert again.exit_code == 1 and "already registered" in again.output
        result = runner.invoke(cli, ["sweep"])
        assert result.exit_code == 0 and "fired 0 timers" in result.output
    finally:
        jobs.database().dispose()
        jobs._database = None
        get_settings.cache_clear()


def test_workflow_endpoint_serves_the_table(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/workflow").json()
    assert {t["action"] for t in body["transitions"]} >= {"submit_draft", "deem_approval"}
    assert json.dumps(body)
