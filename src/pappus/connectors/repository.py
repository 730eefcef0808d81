"""Every query of the connectors domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pappus.connectors.models import FollowerCount, OAuthState, SocialAccount
from pappus.db import dialect_insert
from pappus.kit.ids import new_id


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def lock_state(session: Session, state: str) -> OAuthState | None:
    query = select(OAuthState).where(OAuthState.state == state)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def get(session: Session, account_id: str) -> SocialAccount | None:
    return session.get(SocialAccount, account_id)


def by_external_id(session: Session, platform: str, external_id: str) -> SocialAccount | None:
    return session.scalars(
        select(SocialAccount).where(
            SocialAccount.platform == platform, SocialAccount.external_id == external_id
        )
    ).first()


def of_creator(session: Session, creator_id: str) -> Sequence[SocialAccount]:
    return session.scalars(
        select(SocialAccount)
        .where(SocialAccount.creator_id == creator_id, SocialAccount.status != "unlinked")
        .order_by(SocialAccount.created_at, SocialAccount.id)
    ).all()


def has_active_account(session: Session, creator_id: str) -> bool:
    found = session.scalars(
        select(SocialAccount.id)
        .where(SocialAccount.creator_id == creator_id, SocialAccount.status == "active")
        .limit(1)
    ).first()
    return found is not None


def follower_counts(
    session: Session, account_ids: Sequence[str], since: date
) -> Sequence[FollowerCount]:
    return session.scalars(
        select(FollowerCount)
        .where(FollowerCount.social_account_id.in_(account_ids), FollowerCount.day >= since)
        .order_by(FollowerCount.social_account_id, FollowerCount.day)
    ).all()


def due_for_sync(
    session: Session, before: datetime, failing_before: datetime, limit: int
) -> Sequence[str]:
    """Active accounts not synced since `before`; one whose last attempts failed only when
    its last failure is older than `failing_before` (its own retries are not doubled)."""
    return session.scalars(
        select(SocialAccount.id)
        .where(
            SocialAccount.status == "active",
            or_(SocialAccount.last_synced_at.is_(None), SocialAccount.last_synced_at < before),
            or_(SocialAccount.sync_failures == 0, SocialAccount.updated_at < failing_before),
        )
        .order_by(SocialAccount.last_synced_at.nulls_first(), SocialAccount.id)
        .limit(limit)
    ).all()


def save_follower_counts(
    session: Session, account_id: str, days: Sequence[tuple[date, int]]
) -> None:
    """Insert or correct one count per day (the platform's latest word wins)."""
    if not days:
        return
    insert = dialect_insert(session, FollowerCount.__table__)
    upsert = insert.on_conflict_do_update(
        index_elements=["social_account_id", "day"], set_={"followers": insert.excluded.followers}
    )
    rows = [
        {"id": new_id("fc"), "social_account_id": account_id, "day": day, "followers": count}
        for day, count in days
    ]
    session.execute(upsert, rows)
