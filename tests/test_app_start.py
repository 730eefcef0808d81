"""What the app does once at start: long-lived objects moved out of the collector's reach."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from pappus.app import create_app
from pappus.config import Settings
from pappus.db import Database


def test_start_freezes_the_heap_only_when_asked(db: Database) -> None:
    gc.unfreeze()
    try:
        off = create_app(Settings(freeze_heap_at_start=False), database=db, run_jobs=False)
        with TestClient(off) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() == 0

        on = create_app(Settings(freeze_heap_at_start=True), database=db, run_jobs=False)
        with TestClient(on) as client:
            assert client.get("/healthz").status_code == 200
            # The app's own objects (its routes, for one) are now in the permanent generation.
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
