"""The job queue works on both storages the product uses: SQLite embedded, Redis in production."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from pappus.config import Settings
from pappus.db import after_commit
from pappus.jobs import make_huey
from pappus.kit.clock import clock
from pappus.orders.tasks import sweep_due_timers
from tests.fixtures.builders import World

REDIS_URL = os.environ.get("PAPPUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _storages(tmp_path: Path) -> list[tuple[str, Settings]]:
    storages = [("sqlite", Settings(jobs_sqlite_path=str(tmp_path / "jobs.db")))]
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        storages.append(("redis", Settings(redis_url=REDIS_URL)))
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} is required under CI=true: {exc}")
    return storages


def test_sweep_task_runs_through_each_queue_storage(world: World, tmp_path: Path) -> None:
    order_id, brand, _ = world.to_state("draft_review")
    clock.advance(timedelta(days=4))
    for name, settings in _storages(tmp_path):
        huey = make_huey(settings)
        huey.name = f"pappus-test-{uuid.uuid4().hex[:8]}"  # isolate from other runs
        task = huey.task()(lambda: sweep_due_timers(world.db))
        try:
            result = task()
            message = huey.dequeue()
            assert message is not None, name
            huey.execute(message)
            assert result.get() in (0, 1), name
        finally:
            huey.flush()
        assert world.get_order(order_id, brand)["state"] == "approved", name


def test_after_commit_hooks_run_only_after_a_commit(world: World) -> None:
    ran: list[str] = []
    with world.db.unit_of_work() as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    with pytest.raises(RuntimeError), world.db.unit_of_work() as session:
        after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError("boom")
    assert ran == ["committed"]
