"""Every query of the orders domain. Events are only ever inserted, never updated or deleted."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, and_, any_, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.elements import ColumnElement

from pappus.db import SQL_NULL, dialect_insert, execute_prebuilt, full_row, insert_unless_taken
from pappus.orders.models import Dispute, Draft, MetricSnapshot, Order, OrderEvent, Publication


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


# ON CONFLICT DO NOTHING rather than a savepoint around a plain INSERT: one round trip instead
# of three on PostgreSQL, and a lost race leaves the caller's transaction usable.


def insert_order(session: Session, values: dict[str, Any]) -> Order | None:
    """The new order, persistent in the session; None when a unique rule already holds a row
    (this creator has an order for the campaign, or the offer already became one)."""
    row = full_row(_ORDERS, values)  # every column, and only columns
    if not execute_prebuilt(session, _INSERT_ORDER[session.get_bind().dialect.name], row):
        return None
    # The row as written is the row as loaded: the entity joins the session as if read back,
    # without the ORM's INSERT path (about 1 ms of CPU more per accept, by yappi).
    order = Order(**{name: None if value is SQL_NULL else value for name, value in row.items()})
    make_transient_to_detached(order)
    session.add(order)
    return order


def insert_event(session: Session, values: dict[str, Any]) -> bool:
    """Append an event; False when its sequence number was taken by a concurrent writer."""
    row = full_row(_EVENTS, values)  # its id, and every other column
    return bool(execute_prebuilt(session, _INSERT_EVENT[session.get_bind().dialect.name], row))


# Built once, per dialect (ON CONFLICT is each dialect's own): every accept creates an order
# and every transition appends an event, and building such an INSERT with its values and
# their cache key cost 0.3 to 0.5 ms of CPU each time.
_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_INSERT_ORDER = insert_unless_taken(_ORDERS, None)  # either unique rule refuses the order
_EVENTS: Table = OrderEvent.__table__  # type: ignore[assignment]
_INSERT_EVENT = insert_unless_taken(_EVENTS, ["order_id", "sequence"])


def get(session: Session, order_id: str) -> Order | None:
    return session.get(Order, order_id)


@dataclass(frozen=True)
class OrderScope:
    """Which orders a caller may list: staff see all; others their organizations' or their own."""

    all: bool = False
    organization_ids: tuple[str, ...] = ()
    creator_id: str | None = None


def list_orders(
    session: Session,
    scope: OrderScope,
    *,
    state: str | None,
    campaign_id: str | None,
    organization_id: str | None,
    after_id: str | None,
    limit: int,
) -> Sequence[Order]:
    query = select(Order).order_by(Order.id.desc()).limit(limit + 1)
    if not scope.all:
        visible: list[ColumnElement[bool]] = []
        if scope.organization_ids:
            visible.append(Order.organization_id.in_(scope.organization_ids))
        if scope.creator_id:
            visible.append(Order.creator_id == scope.creator_id)
        if not visible:
            return []
        query = query.where(visible[0] if len(visible) == 1 else visible[0] | visible[1])
    if state:
        query = query.where(Order.state == state)
    if campaign_id:
        query = query.where(Order.campaign_id == campaign_id)
    if organization_id:
        query = query.where(Order.organization_id == organization_id)
    if after_id:
        query = query.where(Order.id < after_id)
    return session.scalars(query).all()


def committed_escrow(session: Session, campaign_id: str, states: Sequence[str]) -> int:
    statement = _COMMITTED_ESCROW[session.get_bind().dialect.name]
    params = {"campaign_id": campaign_id, "states": list(states)}
    [(total,)] = execute_prebuilt(session, statement, params)
    return int(total or 0)


# Built once: every accept checks its campaign's budget with it. PostgreSQL takes the states
# as one array, so the statement's text is fixed and psycopg can send it itself.
_ESCROW_SUM = select(func.coalesce(func.sum(Order.escrow_amount), 0)).where(
    Order.campaign_id == bindparam("campaign_id")
)
_COMMITTED_ESCROW = {
    "postgresql": _ESCROW_SUM.where(
        Order.state == any_(bindparam("states", type_=postgresql.ARRAY(String)))
    ),
    "sqlite": _ESCROW_SUM.where(Order.state.in_(bindparam("states", expanding=True))),
}


def committed_escrow_by_campaign(
    session: Session, campaign_ids: Sequence[str], states: Sequence[str]
) -> dict[str, int]:
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Order.campaign_id, func.sum(Order.escrow_amount))
        .where(Order.campaign_id.in_(list(campaign_ids)), Order.state.in_(list(states)))
        .group_by(Order.campaign_id)
    ).all()
    return {campaign_id: int(total or 0) for campaign_id, total in rows}


def count_in_states(session: Session, campaign_id: str, states: Sequence[str]) -> int:
    return int(
        session.scalar(
            select(func.count(Order.id)).where(
                Order.campaign_id == campaign_id, Order.state.in_(list(states))
            )
        )
        or 0
    )


def order_ids_for_sources(session: Session, source_ids: Sequence[str]) -> dict[str, str]:
    if not source_ids:
        return {}
    rows = session.execute(
        select(Order.source_id, Order.id).where(Order.source_id.in_(list(source_ids)))
    ).all()
    return {source: order_id for source, order_id in rows}


def creators_with_orders(session: Session, organization_ids: Sequence[str]) -> set[str]:
    if not organization_ids:
        return set()
    return set(
        session.scalars(
            select(Order.creator_id)
            .where(Order.organization_id.in_(list(organization_ids)))
            .distinct()
        ).all()
    )


def has_order_between(session: Session, organization_ids: Sequence[str], creator_id: str) -> bool:
    if not organization_ids:
        return False
    return (
        session.scalar(
            select(Order.id)
            .where(
                Order.organization_id.in_(list(organization_ids)),
                Order.creator_id == creator_id,
            )
            .limit(1)
        )
        is not None
    )


def due_order_ids(
    session: Session, state: str, deadline_column: str, now: datetime, limit: int
) -> list[str]:
    column = getattr(Order, deadline_column)
    return list(
        session.scalars(
            select(Order.id)
            .where(Order.state == state, column.is_not(None), column <= now)
            .order_by(column)
            .limit(limit)
        ).all()
    )


def last_link(session: Session, order_id: str) -> tuple[int, str] | None:
    """The sequence number and hash of the order's latest event: the next one chains to it."""
    rows = execute_prebuilt(session, _LAST_LINK, {"order_id": order_id})
    return (rows[0][0], rows[0][1]) if rows else None


_LAST_LINK = (
    select(_EVENTS.c.sequence, _EVENTS.c.hash)
    .where(_EVENTS.c.order_id == bindparam("order_id"))
    .order_by(_EVENTS.c.sequence.desc())
    .limit(1)
)


def events(
    session: Session, order_id: str, *, after_id: str | None, limit: int
) -> Sequence[OrderEvent]:
    query = (
        select(OrderEvent)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.sequence)
        .limit(limit + 1)
    )
    if after_id:
        after = session.get(OrderEvent, after_id)
        if after is not None:
            query = query.where(OrderEvent.sequence > after.sequence)
    return session.scalars(query).all()


def all_events(session: Session, order_id: str) -> Sequence[OrderEvent]:
    return session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.sequence)
    ).all()


def drafts(session: Session, order_id: str, *, after_id: str | None, limit: int) -> Sequence[Draft]:
    query = (
        select(Draft).where(Draft.order_id == order_id).order_by(Draft.id.desc()).limit(limit + 1)
    )
    if after_id:
        query = query.where(Draft.id < after_id)
    return session.scalars(query).all()


def latest_draft(session: Session, order_id: str) -> Draft | None:
    return session.scalars(
        select(Draft).where(Draft.order_id == order_id).order_by(Draft.round.desc()).limit(1)
    ).first()


def get_draft(session: Session, draft_id: str) -> Draft | None:
    return session.get(Draft, draft_id)


def publication(session: Session, order_id: str) -> Publication | None:
    return session.scalars(select(Publication).where(Publication.order_id == order_id)).first()


def of_campaign(session: Session, campaign_id: str) -> Sequence[Order]:
    return session.scalars(
        select(Order).where(Order.campaign_id == campaign_id).order_by(Order.id)
    ).all()


def of_organization(session: Session, organization_id: str) -> Sequence[Order]:
    return session.scalars(
        select(Order).where(Order.organization_id == organization_id).order_by(Order.id)
    ).all()


def of_creator(session: Session, creator_id: str) -> Sequence[Order]:
    return session.scalars(
        select(Order).where(Order.creator_id == creator_id).order_by(Order.id)
    ).all()


def watched_publication_order_ids(session: Session, at: datetime, limit: int) -> Sequence[str]:
    """Orders whose verified post is still read: published, or within its retention period."""
    return session.scalars(
        select(Publication.order_id)
        .join(Order, Order.id == Publication.order_id)
        .where(
            Publication.social_account_id.is_not(None),
            Publication.external_post_id.is_not(None),
            or_(Order.state == "published", Publication.watch_until > at),
        )
        .order_by(Publication.order_id)
        .limit(limit)
    ).all()


def recent_in_states(session: Session, states: Sequence[str], limit: int) -> Sequence[Order]:
    return session.scalars(
        select(Order).where(Order.state.in_(states)).order_by(Order.id.desc()).limit(limit)
    ).all()


def publications_of(session: Session, order_ids: Sequence[str]) -> Sequence[Publication]:
    if not order_ids:
        return []
    return session.scalars(select(Publication).where(Publication.order_id.in_(order_ids))).all()


def publication_by_id(session: Session, publication_id: str) -> Publication | None:
    return session.get(Publication, publication_id)


def publications_due(
    session: Session,
    read_before: datetime,
    states: tuple[str, ...],
    limit: int,
    *,
    watched_state: str,
    now: datetime,
) -> Sequence[str]:
    """Verified publications not read since `read_before`, of orders in `states`, or in
    `watched_state` while the post must stay up (`watch_until` not reached)."""
    return session.scalars(
        select(Publication.id)
        .join(Order, Order.id == Publication.order_id)
        .where(
            Publication.verification_status == "verified",
            or_(Publication.last_checked_at.is_(None), Publication.last_checked_at <= read_before),
            or_(
                Order.state.in_(states),
                and_(Order.state == watched_state, Publication.watch_until > now),
            ),
        )
        .order_by(Publication.last_checked_at)
        .limit(limit)
    ).all()


def orders_by_ids(session: Session, order_ids: Sequence[str]) -> dict[str, Order]:
    if not order_ids:
        return {}
    return {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(order_ids)))}


def insert_snapshots(session: Session, rows: list[dict[str, object]]) -> set[str]:
    """Insert snapshots not yet stored at their (order, taken_at); returns the new ids. Sorted,
    so concurrent batches take row locks in one order."""
    if not rows:
        return set()
    table = MetricSnapshot.__table__
    statement = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["order_id", "taken_at"])
        .returning(table.c.id)
    )
    ordered = sorted(rows, key=lambda r: (str(r["order_id"]), str(r["taken_at"])))
    return set(session.scalars(statement, ordered).all())


def snapshots_at(
    session: Session, keys: Sequence[tuple[str, datetime]]
) -> dict[tuple[str, datetime], MetricSnapshot]:
    if not keys:
        return {}
    # Not a row-value IN list: SQLite scans the whole table for one of several row values.
    # The orders' ids reach the (order_id, taken_at) index on both; the pairs are picked here.
    wanted = set(keys)
    found = session.scalars(
        select(MetricSnapshot).where(
            MetricSnapshot.order_id.in_({order_id for order_id, _ in keys}),
            MetricSnapshot.taken_at.in_({taken_at for _, taken_at in keys}),
        )
    )
    return {(s.order_id, s.taken_at): s for s in found if (s.order_id, s.taken_at) in wanted}


def snapshot_at(session: Session, order_id: str, taken_at: datetime) -> MetricSnapshot | None:
    return session.scalars(
        select(MetricSnapshot).where(
            MetricSnapshot.order_id == order_id, MetricSnapshot.taken_at == taken_at
        )
    ).first()


def latest_snapshot(
    session: Session, order_id: str, *, not_after: datetime | None = None
) -> MetricSnapshot | None:
    query = select(MetricSnapshot).where(MetricSnapshot.order_id == order_id)
    if not_after is not None:
        query = query.where(MetricSnapshot.taken_at <= not_after)
    return session.scalars(query.order_by(MetricSnapshot.taken_at.desc()).limit(1)).first()


def snapshots_until(
    session: Session, order_id: str, until: datetime | None
) -> Sequence[MetricSnapshot]:
    """Every snapshot of the order up to `until`, oldest first (for the inflation check)."""
    query = select(MetricSnapshot).where(MetricSnapshot.order_id == order_id)
    if until is not None:
        query = query.where(MetricSnapshot.taken_at <= until)
    return session.scalars(query.order_by(MetricSnapshot.taken_at)).all()


def snapshots(
    session: Session, order_id: str, *, after_id: str | None, limit: int
) -> Sequence[MetricSnapshot]:
    query = (
        select(MetricSnapshot)
        .where(MetricSnapshot.order_id == order_id)
        .order_by(MetricSnapshot.id.desc())
        .limit(limit + 1)
    )
    if after_id:
        query = query.where(MetricSnapshot.id < after_id)
    return session.scalars(query).all()


def get_dispute(session: Session, dispute_id: str) -> Dispute | None:
    return session.get(Dispute, dispute_id)


def open_dispute_for(session: Session, order_id: str) -> Dispute | None:
    return session.scalars(
        select(Dispute).where(Dispute.order_id == order_id, Dispute.status == "open")
    ).first()


def disputes(
    session: Session,
    *,
    status: str | None,
    order_ids: Sequence[str] | None,
    after_id: str | None,
    limit: int,
) -> Sequence[Dispute]:
    query = select(Dispute).order_by(Dispute.id.desc()).limit(limit + 1)
    if status:
        query = query.where(Dispute.status == status)
    if order_ids is not None:
        query = query.where(Dispute.order_id.in_(list(order_ids)))
    if after_id:
        query = query.where(Dispute.id < after_id)
    return session.scalars(query).all()


def order_ids_in_states(
    session: Session, states: Sequence[str], among: Sequence[str] | None = None
) -> Sequence[str]:
    """The ids of the orders in `states` (only those of `among`, when given)."""
    query = select(Order.id).where(Order.state.in_(list(states)))
    if among is not None:
        query = query.where(Order.id.in_(list(among)))
    return session.scalars(query).all()


@dataclass(frozen=True)
class SettledOrder:
    """What the fee check needs of a settled order."""

    id: str
    escrow_amount: int
    contract: dict[str, Any]
    settlement: dict[str, Any]


def settled_orders(session: Session) -> Iterator[SettledOrder]:
    """Every settled order, streamed in batches (the fee check reads them all once)."""
    query = (
        select(Order.id, Order.escrow_amount, Order.contract, Order.settlement)
        .where(Order.settlement.is_not(None))
        .order_by(Order.id)
        .execution_options(yield_per=1000)
    )
    for order_id, escrow_amount, contract, settlement in session.execute(query):
        yield SettledOrder(order_id, escrow_amount, contract, settlement or {})


def all_drafts(session: Session, order_id: str) -> Sequence[Draft]:
    """Every draft of the order, by round (for its dossier)."""
    return session.scalars(
        select(Draft).where(Draft.order_id == order_id).order_by(Draft.round)
    ).all()


def all_disputes(session: Session, order_id: str) -> Sequence[Dispute]:
    return session.scalars(
        select(Dispute).where(Dispute.order_id == order_id).order_by(Dispute.created_at)
    ).all()


def held_order_ids(session: Session, creator_id: str) -> Sequence[str]:
    return session.scalars(
        select(Order.id).where(Order.creator_id == creator_id, Order.compliance_hold.is_not(None))
    ).all()
