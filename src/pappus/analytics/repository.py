"""Every query of the analytics domain. Raw clicks and conversions are only inserted; reports
read the rollups, which batches keep current with upserts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from pappus.analytics.models import (
    BenchmarkSet,
    Click,
    ClickRollup,
    ClickVisit,
    CommentWord,
    Conversion,
    ConversionRefund,
    Coupon,
    MetricDaily,
    PostComment,
    Store,
    TrackingLink,
)
from pappus.db import dialect_insert


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


# -- links and clicks -------------------------------------------------------------------------


def link_by_code(session: Session, code: str) -> TrackingLink | None:
    return session.scalars(select(TrackingLink).where(TrackingLink.code == code)).first()


def link(session: Session, link_id: str) -> TrackingLink | None:
    return session.get(TrackingLink, link_id)


def link_for_destination(session: Session, order_id: str, destination: str) -> TrackingLink | None:
    return session.scalars(
        select(TrackingLink).where(
            TrackingLink.order_id == order_id, TrackingLink.destination_url == destination
        )
    ).first()


def links_of_order(session: Session, order_id: str) -> Sequence[TrackingLink]:
    return session.scalars(
        select(TrackingLink).where(TrackingLink.order_id == order_id).order_by(TrackingLink.id)
    ).all()


def _pg_array(values: Sequence[str], element: str = "text") -> tuple[str, str | list[str]]:
    """An array parameter of PostgreSQL as one comma-joined string that the server splits:
    psycopg dumps a Python list element by element, in Python, which cost more than the
    statement. The list itself when a value holds a comma (ids and keys are ours and never
    do) or the only value is empty."""
    joined = ",".join(values)
    if joined and joined.count(",") == len(values) - 1:
        fragment = "string_to_array(%s, ',')"
        if element != "text":
            fragment = f"CAST({fragment} AS {element}[])"
        return fragment, joined
    return f"CAST(%s AS {element}[])", list(values)


def _driver(session: Session) -> Any:
    """The DB-API connection (sqlite3 or psycopg) in this session's transaction: the click
    batches go through it, as SQLAlchemy's per-row parameter processing was most of their
    cost."""
    return session.connection().connection.driver_connection


def db_time(session: Session) -> Callable[[datetime], Any]:
    """How the click batch statements take a datetime: as is (psycopg), or as SQLAlchemy
    stores it on SQLite."""
    return _same if _is_postgresql(session) else sqlite_time


def _same(at: datetime) -> datetime:
    return at


def claim_visits(session: Session, visits: list[tuple[str, Any]]) -> set[str]:
    """Insert the (key, at) visits not yet taken, `at` as `db_time` gives it; returns the keys
    this call inserted. Sorted, so two batches lock rows in the same order and cannot
    deadlock."""
    if not visits:
        return set()
    visits = sorted(visits)
    driver = _driver(session)
    if _is_postgresql(session):
        keys, key_param = _pg_array([key for key, _ in visits])
        ats, at_param = _pg_array([str(at) for _, at in visits], "timestamptz")
        insert = (
            f"INSERT INTO click_visits (key, at) SELECT * FROM unnest({keys}, {ats}) "
            "ON CONFLICT (key) DO NOTHING RETURNING key"
        )
        with driver.cursor() as cursor:
            if isinstance(key_param, list):  # a key with a comma: read them as rows
                return {key for (key,) in cursor.execute(insert, (key_param, at_param))}
            # Our keys are hex: the claimed ones come back as one string, not a row each.
            cursor.execute(
                f"WITH claimed AS ({insert}) SELECT string_agg(key, ',') FROM claimed",
                (key_param, at_param),
            )
            row = cursor.fetchone()
        return set(row[0].split(",")) if row and row[0] else set()
    claimed: set[str] = set()
    cursor = driver.cursor()
    try:
        for start in range(0, len(visits), SQLITE_CHUNK):
            chunk = visits[start : start + SQLITE_CHUNK]
            values = ", ".join(["(?, ?)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO click_visits (key, at) VALUES {values} "
                "ON CONFLICT (key) DO NOTHING RETURNING key",
                list(chain.from_iterable(chunk)),
            )
            claimed.update(key for (key,) in cursor.fetchall())
    finally:
        cursor.close()
    return claimed


def stored_click_ids(session: Session, ids: list[str]) -> set[str]:
    """The ids of the list already in `clicks` (a batch written before)."""
    if not ids:
        return set()
    session.flush()  # as a query through the session would: pending ORM rows are written
    driver = _driver(session)
    if _is_postgresql(session):
        array, param = _pg_array(ids)
        with driver.cursor() as cursor:
            cursor.execute(f"SELECT id FROM clicks WHERE id = ANY({array})", (param,))
            return {click_id for (click_id,) in cursor.fetchall()}
    stored: set[str] = set()
    cursor = driver.cursor()
    try:
        for start in range(0, len(ids), 2 * SQLITE_CHUNK):
            chunk = ids[start : start + 2 * SQLITE_CHUNK]
            cursor.execute(
                f"SELECT id FROM clicks WHERE id IN ({', '.join(['?'] * len(chunk))})", chunk
            )
            stored.update(click_id for (click_id,) in cursor.fetchall())
    finally:
        cursor.close()
    return stored


# Columns of `clicks`, in the order of the rows `insert_clicks` takes.
CLICK_COLUMNS = (
    "id",
    "link_id",
    "order_id",
    "campaign_id",
    "organization_id",
    "at",
    "visitor_hash",
    "user_agent",
    "referrer",
    "is_bot",
    "is_duplicate",
)


# Parameters per multi-row statement on SQLite: 1,000, far below its variable limit.
SQLITE_CHUNK = 500


def sqlite_time(at: datetime) -> str:
    """A datetime as SQLAlchemy stores it on SQLite (UTC, no zone)."""
    if at.tzinfo is UTC:  # the clicks' own zone: one call instead of three
        return at.isoformat(" ", "microseconds")[:-6]
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_clicks(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """One statement for the batch (rows in CLICK_COLUMNS order, `at` as `db_time` gives
    it): COPY on PostgreSQL, the driver's executemany on SQLite."""
    if not rows:
        return
    driver = _driver(session)
    if _is_postgresql(session):
        # COPY, in this session's transaction: no statement to parse and no array literals to
        # quote (psycopg's text dumping of arrays was most of an unnest insert's cost).
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY clicks ({', '.join(CLICK_COLUMNS)}) FROM STDIN") as copy,
        ):
            write = copy.write_row
            for row in rows:
                write(row)
        return
    driver.executemany(
        f"INSERT INTO clicks ({', '.join(CLICK_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(CLICK_COLUMNS))})",
        rows,
    )


ROLLUP_COUNTS = ("clicks", "valid_clicks", "bot_clicks", "duplicate_clicks")


def add_click_rollups(
    session: Session, rows: list[tuple[str, datetime, str, str, int, int, int, int]]
) -> None:
    """Add each (link, hour, order, campaign, clicks, valid, bots, duplicates) row's counts
    to its (link, hour), creating it when it is the first; one row per (link, hour). Sorted,
    so two batches lock rows in the same order and cannot deadlock."""
    if not rows:
        return
    rows = sorted(rows)
    columns = f"link_id, hour, order_id, campaign_id, {', '.join(ROLLUP_COUNTS)}"
    upsert = "ON CONFLICT (link_id, hour) DO UPDATE SET " + ", ".join(
        f"{name} = click_rollups.{name} + excluded.{name}" for name in ROLLUP_COUNTS
    )
    driver = _driver(session)
    if _is_postgresql(session):
        arrays = [
            _pg_array([str(row[n]) for row in rows], element)
            for n, element in enumerate(("text", "timestamptz", "text", "text", *["bigint"] * 4))
        ]
        with driver.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO click_rollups ({columns}) "
                f"SELECT * FROM unnest({', '.join(sql for sql, _ in arrays)}) {upsert}",
                [param for _, param in arrays],
            )
        return
    driver.executemany(
        f"INSERT INTO click_rollups ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) {upsert}",
        [(link, sqlite_time(hour), *rest) for link, hour, *rest in rows],
    )


def prune_visits(session: Session, before: datetime) -> int:
    result = session.execute(delete(ClickVisit).where(ClickVisit.at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def clicks_by_ids(session: Session, organization_id: str, ids: list[str]) -> Sequence[Click]:
    if not ids:
        return []
    return session.scalars(
        select(Click).where(Click.id.in_(ids), Click.organization_id == organization_id)
    ).all()


def keep_latest_daily_statement(dialect: str, table: Table) -> Any:
    """Upsert an (order, day) keeping the values of the latest snapshot of that day."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    excluded = statement.excluded
    newer = excluded.taken_at > table.c.taken_at
    return statement.on_conflict_do_update(
        index_elements=["order_id", "day"],
        set_={
            name: case((newer, excluded[name]), else_=table.c[name])
            for name in ("taken_at", "views", "likes", "comments", "saves", "shares")
        },
    )


def keep_latest_daily(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        table: Table = MetricDaily.__table__  # type: ignore[assignment]
        statement = keep_latest_daily_statement(connection.dialect.name, table)
        connection.execute(statement, sorted(rows, key=lambda r: (r["order_id"], r["day"])))


# -- coupons, stores, conversions -------------------------------------------------------------


def coupons_by_code(session: Session, organization_id: str, codes: list[str]) -> Sequence[Coupon]:
    if not codes:
        return []
    return session.scalars(
        select(Coupon).where(Coupon.organization_id == organization_id, Coupon.code.in_(codes))
    ).all()


def coupons_of_order(session: Session, order_id: str) -> Sequence[Coupon]:
    return session.scalars(
        select(Coupon).where(Coupon.order_id == order_id).order_by(Coupon.id)
    ).all()


def store(session: Session, store_id: str) -> Store | None:
    return session.get(Store, store_id)


def stores_of(session: Session, organization_id: str) -> Sequence[Store]:
    return session.scalars(
        select(Store).where(Store.organization_id == organization_id).order_by(Store.id)
    ).all()


def conversion_for(
    session: Session, store_id: str, external_order_id: str, *, lock: bool = False
) -> Conversion | None:
    query = select(Conversion).where(
        Conversion.store_id == store_id, Conversion.external_order_id == external_order_id
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def refund_for(
    session: Session, conversion_id: str, external_refund_id: str
) -> ConversionRefund | None:
    return session.scalars(
        select(ConversionRefund).where(
            ConversionRefund.conversion_id == conversion_id,
            ConversionRefund.external_refund_id == external_refund_id,
        )
    ).first()


def conversions(
    session: Session,
    organization_id: str,
    *,
    order_id: str | None,
    campaign_id: str | None,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> Sequence[Conversion]:
    query = select(Conversion).where(Conversion.organization_id == organization_id)
    if order_id is not None:
        query = query.where(Conversion.order_id == order_id)
    if campaign_id is not None:
        query = query.where(Conversion.campaign_id == campaign_id)
    if status is not None:
        query = query.where(Conversion.status == status)
    if after_id is not None:
        query = query.where(Conversion.id < after_id)
    return session.scalars(query.order_by(Conversion.id.desc()).limit(limit)).all()


def bump_refunded(session: Session, conversion_id: str, amount: int, at: datetime) -> None:
    session.execute(
        update(Conversion)
        .where(Conversion.id == conversion_id)
        .values(refunded_amount=Conversion.refunded_amount + amount, updated_at=at)
        .execution_options(synchronize_session=False)
    )


# -- comments ---------------------------------------------------------------------------------


def known_comment_ids(session: Session, order_id: str) -> set[str]:
    return set(
        session.scalars(select(PostComment.external_id).where(PostComment.order_id == order_id))
    )


def insert_comments(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert comments not stored yet (a concurrent sync may have stored some); the ids of
    those this call inserted."""
    if not rows:
        return set()
    table = PostComment.__table__
    statement = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["order_id", "external_id"])
        .returning(table.c.id)
    )
    return set(session.scalars(statement, rows).all())


def comments_of(
    session: Session, order_id: str, sentiment: str | None, after_id: str | None, limit: int
) -> Sequence[PostComment]:
    query = select(PostComment).where(PostComment.order_id == order_id)
    if sentiment is not None:
        query = query.where(PostComment.sentiment == sentiment)
    if after_id is not None:
        query = query.where(PostComment.id < after_id)
    return session.scalars(query.order_by(PostComment.id.desc()).limit(limit)).all()


def insert_comment_words(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(cast(Table, CommentWord.__table__).insert(), rows)


def sentiment_counts(session: Session, order_ids: list[str]) -> Sequence[Any]:
    """(sentiment, comments, summed score) over the orders' comments."""
    if not order_ids:
        return []
    return session.execute(
        select(PostComment.sentiment, func.count(), func.sum(PostComment.sentiment_score))
        .where(PostComment.order_id.in_(order_ids))
        .group_by(PostComment.sentiment)
    ).all()


def hot_word_counts(session: Session, order_ids: list[str], limit: int) -> Sequence[Any]:
    """(word, comments, positive, negative) for the words in the most comments."""
    if not order_ids:
        return []
    comments = func.count().label("comments")
    return session.execute(
        select(
            CommentWord.word,
            comments,
            func.sum(case((CommentWord.sentiment == "positive", 1), else_=0)),
            func.sum(case((CommentWord.sentiment == "negative", 1), else_=0)),
        )
        .where(CommentWord.order_id.in_(order_ids))
        .group_by(CommentWord.word)
        .order_by(comments.desc(), CommentWord.word)
        .limit(limit)
    ).all()


def mention_counts(
    session: Session, order_ids: list[str], names: dict[str, list[str]]
) -> dict[str, tuple[int, int, int]]:
    """Per name: (comments mentioning any of its terms, of them positive, negative)."""
    named = {name: terms for name, terms in names.items() if terms}
    if not order_ids or not named:
        return {name: (0, 0, 0) for name in names}
    lowered = func.lower(PostComment.text)
    columns = []
    for terms in named.values():
        mentioned = or_(*(lowered.contains(term, autoescape=True) for term in terms))
        for extra in (None, "positive", "negative"):
            condition = (
                mentioned if extra is None else and_(mentioned, PostComment.sentiment == extra)
            )
            columns.append(func.sum(case((condition, 1), else_=0)))
    row = session.execute(select(*columns).where(PostComment.order_id.in_(order_ids))).one()
    counts = {name: (0, 0, 0) for name in names}
    for index, name in enumerate(named):
        counts[name] = tuple(int(v or 0) for v in row[index * 3 : index * 3 + 3])  # type: ignore[assignment]
    return counts


# -- benchmarks -------------------------------------------------------------------------------


def latest_benchmark_set(session: Session) -> BenchmarkSet | None:
    return session.scalars(
        select(BenchmarkSet).order_by(BenchmarkSet.computed_at.desc()).limit(1)
    ).first()


def prune_benchmark_sets(session: Session, keep_after: datetime) -> None:
    session.execute(delete(BenchmarkSet).where(BenchmarkSet.computed_at < keep_after))


# -- report reads -----------------------------------------------------------------------------


def click_totals(
    session: Session, order_ids: list[str], start: datetime | None, end: datetime | None
) -> dict[str, dict[str, int]]:
    """Per order: clicks, valid, bot and duplicate clicks in [start, end) by the hourly rollup."""
    if not order_ids:
        return {}
    query = select(
        ClickRollup.order_id,
        func.sum(ClickRollup.clicks),
        func.sum(ClickRollup.valid_clicks),
        func.sum(ClickRollup.bot_clicks),
        func.sum(ClickRollup.duplicate_clicks),
    ).where(ClickRollup.order_id.in_(order_ids))
    if start is not None:
        query = query.where(ClickRollup.hour >= start)
    if end is not None:
        query = query.where(ClickRollup.hour < end)
    totals: dict[str, dict[str, int]] = {}
    for order_id, clicks, valid, bots, duplicates in session.execute(
        query.group_by(ClickRollup.order_id)
    ):
        totals[order_id] = {
            "clicks": int(clicks or 0),
            "valid_clicks": int(valid or 0),
            "bot_clicks": int(bots or 0),
            "duplicate_clicks": int(duplicates or 0),
        }
    return totals


def link_totals(session: Session, link_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per link: (clicks, valid clicks), all time."""
    if not link_ids:
        return {}
    rows = session.execute(
        select(
            ClickRollup.link_id, func.sum(ClickRollup.clicks), func.sum(ClickRollup.valid_clicks)
        )
        .where(ClickRollup.link_id.in_(link_ids))
        .group_by(ClickRollup.link_id)
    ).all()
    return {link_id: (int(c or 0), int(v or 0)) for link_id, c, v in rows}


def orders_with_links(session: Session, order_ids: list[str]) -> set[str]:
    if not order_ids:
        return set()
    return set(
        session.scalars(
            select(TrackingLink.order_id).where(TrackingLink.order_id.in_(order_ids)).distinct()
        ).all()
    )


WINDOWS_PER_QUERY = 200


def click_totals_between(
    session: Session,
    order_ids: list[str],
    starts: dict[str, datetime],
    ends: dict[str, datetime | None],
) -> dict[str, int]:
    """Valid clicks per order from its start hour (publication) to its end (the window's),
    summed by the database: one condition per order, a few hundred orders per query."""
    totals: dict[str, int] = {}
    for first in range(0, len(order_ids), WINDOWS_PER_QUERY):
        windows = []
        for order_id in order_ids[first : first + WINDOWS_PER_QUERY]:
            condition = [ClickRollup.order_id == order_id]
            if starts.get(order_id) is not None:
                condition.append(ClickRollup.hour >= starts[order_id])
            if ends.get(order_id) is not None:
                condition.append(ClickRollup.hour < ends[order_id])
            windows.append(and_(*condition))
        rows = session.execute(
            select(ClickRollup.order_id, func.sum(ClickRollup.valid_clicks))
            .where(or_(*windows))
            .group_by(ClickRollup.order_id)
        )
        totals.update({order_id: int(valid or 0) for order_id, valid in rows})
    return totals


def _utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, in the database."""
    if _is_postgresql(session):
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC text


def click_series(session: Session, order_ids: list[str]) -> Sequence[Any]:
    """(hour, clicks, valid clicks) over the orders, by hour."""
    if not order_ids:
        return []
    return session.execute(
        select(
            ClickRollup.hour,
            func.sum(ClickRollup.clicks),
            func.sum(ClickRollup.valid_clicks),
        )
        .where(ClickRollup.order_id.in_(order_ids))
        .group_by(ClickRollup.hour)
        .order_by(ClickRollup.hour)
    ).all()


def daily_metrics(session: Session, order_ids: list[str]) -> Sequence[Any]:
    """(order, day, views, likes, comments, saves, shares) rows, plain tuples: a long report
    reads thousands, and loading them as ORM objects cost more than the query."""
    if not order_ids:
        return []
    return session.execute(
        select(
            MetricDaily.order_id,
            MetricDaily.day,
            MetricDaily.views,
            MetricDaily.likes,
            MetricDaily.comments,
            MetricDaily.saves,
            MetricDaily.shares,
        )
        .where(MetricDaily.order_id.in_(order_ids))
        .order_by(MetricDaily.order_id, MetricDaily.day)
    ).all()


def conversion_totals(
    session: Session, order_ids: list[str], end_by_order: dict[str, datetime | None]
) -> dict[str, dict[str, int]]:
    """Per order: attributed conversions (not voided) and revenue net of refunds, up to each
    order's own end (the measurement window's) when it has one; summed by the database."""
    totals: dict[str, dict[str, int]] = {}
    for first in range(0, len(order_ids), WINDOWS_PER_QUERY):
        windows = []
        for order_id in order_ids[first : first + WINDOWS_PER_QUERY]:
            end = end_by_order.get(order_id)
            condition = Conversion.order_id == order_id
            windows.append(
                condition if end is None else and_(condition, Conversion.occurred_at <= end)
            )
        rows = session.execute(
            select(
                Conversion.order_id,
                func.count(),
                func.sum(Conversion.amount - Conversion.refunded_amount),
            )
            .where(or_(*windows), Conversion.status == "attributed")
            .group_by(Conversion.order_id)
        )
        for owner, count, revenue in rows:
            totals[str(owner)] = {"conversions": int(count), "revenue_amount": int(revenue or 0)}
    return totals


def conversion_series(session: Session, order_ids: list[str]) -> Sequence[Any]:
    """(UTC day, conversions, revenue net of refunds) of the orders' attributed conversions."""
    if not order_ids:
        return []
    day = _utc_day(session, Conversion.occurred_at)
    return session.execute(
        select(day, func.count(), func.sum(Conversion.amount - Conversion.refunded_amount))
        .where(Conversion.order_id.in_(order_ids), Conversion.status == "attributed")
        .group_by(day)
        .order_by(day)
    ).all()
