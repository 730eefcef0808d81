"""Every query of the vetting domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pappus.vetting.models import VettingAppeal, VettingDecision, VettingReport


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def latest_report(session: Session, creator_id: str) -> VettingReport | None:
    return session.scalars(
        select(VettingReport)
        .where(VettingReport.creator_id == creator_id)
        .order_by(VettingReport.created_at.desc(), VettingReport.id.desc())
        .limit(1)
    ).first()


def reports(
    session: Session, creator_id: str, after_id: str | None, limit: int
) -> Sequence[VettingReport]:
    query = select(VettingReport).where(VettingReport.creator_id == creator_id)
    if after_id:
        query = query.where(VettingReport.id < after_id)
    return session.scalars(query.order_by(VettingReport.id.desc()).limit(limit + 1)).all()


def decisions(session: Session, creator_id: str) -> Sequence[VettingDecision]:
    return session.scalars(
        select(VettingDecision)
        .where(VettingDecision.creator_id == creator_id)
        .order_by(VettingDecision.created_at.desc(), VettingDecision.id.desc())
    ).all()


def appeal(session: Session, appeal_id: str, *, lock: bool = False) -> VettingAppeal | None:
    query = select(VettingAppeal).where(VettingAppeal.id == appeal_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def open_appeal(session: Session, creator_id: str) -> VettingAppeal | None:
    return session.scalars(
        select(VettingAppeal).where(
            VettingAppeal.creator_id == creator_id, VettingAppeal.status == "open"
        )
    ).first()


def appeals(
    session: Session, status: str | None, creator_id: str | None, after_id: str | None, limit: int
) -> Sequence[VettingAppeal]:
    query = select(VettingAppeal)
    if status:
        query = query.where(VettingAppeal.status == status)
    if creator_id:
        query = query.where(VettingAppeal.creator_id == creator_id)
    if after_id:
        query = query.where(VettingAppeal.id > after_id)
    return session.scalars(query.order_by(VettingAppeal.id).limit(limit + 1)).all()


def creators_due(session: Session, scored_before: datetime, limit: int) -> Sequence[str]:
    """Creators with an active linked account whose latest report is older than
    `scored_before`, or who have none."""
    from pappus.connectors.models import SocialAccount

    latest = (
        select(VettingReport.creator_id, func.max(VettingReport.created_at).label("at"))
        .group_by(VettingReport.creator_id)
        .subquery()
    )
    return session.scalars(
        select(SocialAccount.creator_id)
        .distinct()
        .outerjoin(latest, latest.c.creator_id == SocialAccount.creator_id)
        .where(
            SocialAccount.status == "active",
            (latest.c.at.is_(None)) | (latest.c.at < scored_before),
        )
        .limit(limit)
    ).all()
