"""Keep `metric_daily` current however a metric snapshot is stored: an ORM insert from any
domain (the connector's scheduled read, staff, an API key) fires the listener below; batch
ingestion (Core inserts, which fire no ORM events) calls `daily_rows` itself."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from pappus.analytics import repository as repo
from pappus.orders.models import MetricSnapshot

DAILY_FIELDS = ("views", "likes", "comments", "saves", "shares")


def daily_rows(snapshots: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (order, UTC day): the latest snapshot of the batch for that day."""
    latest: dict[tuple[str, Any], dict[str, Any]] = {}
    for snapshot in snapshots:
        day = snapshot["taken_at"].astimezone(UTC).date()
        key = (snapshot["order_id"], day)
        if key not in latest or snapshot["taken_at"] > latest[key]["taken_at"]:
            latest[key] = {
                "order_id": snapshot["order_id"],
                "day": day,
                "taken_at": snapshot["taken_at"],
                **{name: snapshot.get(name) or 0 for name in DAILY_FIELDS},
            }
    return list(latest.values())


def keep_daily(session: Session, rows: list[dict[str, Any]]) -> None:
    """For batch inserts, which fire no ORM events."""
    repo.keep_latest_daily(session.connection(), rows)


@event.listens_for(MetricSnapshot, "after_insert")
def _snapshot_inserted(mapper: Mapper[Any], connection: Connection, target: MetricSnapshot) -> None:
    row = {name: getattr(target, name) for name in ("order_id", "taken_at", *DAILY_FIELDS)}
    repo.keep_latest_daily(connection, daily_rows([row]))
