"""HTTP routes of the vetting domain."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from pappus.accounts.deps import CurrentPrincipal
from pappus.db import DbSession, after_commit
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.kit.routing import DomainRouter
from pappus.vetting import service
from pappus.vetting.followers import score_followers, shipped_report
from pappus.vetting.schemas import (
    AppealCreate,
    AppealResolve,
    AppealView,
    DecisionCreate,
    DecisionView,
    FollowerScoreOut,
    FollowerScores,
    FollowerScoresRequest,
    Queued,
    QueueItem,
    VettingReportView,
)

router = DomainRouter(tags=["vetting"])
Paging = Annotated[PageParams, Depends(page_params)]


@router.post("/vetting/follower-scores", response_model=FollowerScores)
def follower_scores(body: FollowerScoresRequest, principal: CurrentPrincipal) -> FollowerScores:
    """The probability that each follower profile is fake (up to 2,000 at once), with the
    main reasons. The model and its evaluation: docs/vetting.md."""
    report = shipped_report()
    threshold = float(report["threshold"])
    scores = score_followers(body.profiles)
    return FollowerScores(
        model=f"{report['model']} ({report['trained_at']})",
        items=[
            FollowerScoreOut(
                username=p.username,
                probability_fake=s.probability_fake,
                fake=s.probability_fake >= threshold,
                reasons=s.reasons,
            )
            for p, s in zip(body.profiles, scores, strict=True)
        ],
    )


@router.get("/creators/{creator_id}/vetting", response_model=VettingReportView)
def latest_report(
    creator_id: str, session: DbSession, principal: CurrentPrincipal
) -> VettingReportView:
    """The creator's latest audience-quality score with its evidence (brands, staff, and the
    creator about themselves)."""
    return VettingReportView.model_validate(service.latest(session, principal, creator_id))


@router.get("/creators/{creator_id}/vetting/reports", response_model=Page[VettingReportView])
def reports(
    creator_id: str, session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[VettingReportView]:
    """Every score of the creator, newest first."""
    found = service.history(session, principal, creator_id, page.after_id, page.limit)
    return Page(
        items=[VettingReportView.model_validate(r) for r in found[: page.limit]],
        next_cursor=next_cursor([r.id for r in found], page.limit),
    )


@router.post("/creators/{creator_id}/vetting/runs", status_code=202, response_model=Queued)
def run(creator_id: str, session: DbSession, principal: CurrentPrincipal) -> Queued:
    """Score the creator again now, in the background (staff)."""
    principal.require_staff()
    service.require_creator(session, creator_id)
    after_commit(session, lambda: _enqueue(creator_id))
    return Queued(creator_id=creator_id)


def _enqueue(creator_id: str) -> None:
    from pappus.vetting.tasks import score_creator_job

    score_creator_job(creator_id)


@router.get("/creators/{creator_id}/vetting/decisions", response_model=Page[DecisionView])
def decisions(
    creator_id: str, session: DbSession, principal: CurrentPrincipal
) -> Page[DecisionView]:
    """The staff decisions on the creator, newest first (one page)."""
    found = service.decisions(session, principal, creator_id)
    return Page(items=[DecisionView.model_validate(d) for d in found], next_cursor=None)


@router.post(
    "/creators/{creator_id}/vetting/decisions", status_code=201, response_model=DecisionView
)
def decide(
    creator_id: str, body: DecisionCreate, session: DbSession, principal: CurrentPrincipal
) -> DecisionView:
    """Approve, reject or flag the creator, with a reason (staff)."""
    row = service.decide(session, principal, creator_id, body.decision, body.reason)
    return DecisionView.model_validate(row)


@router.get("/vetting/queue", response_model=Page[QueueItem])
def queue(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    status: Annotated[Literal["pending", "flagged"] | None, Query()] = None,
) -> Page[QueueItem]:
    """Creators waiting for a staff decision (pending and flagged), with their latest score."""
    found = service.queue(session, principal, status, page.after_id, page.limit)
    return Page(
        items=[
            QueueItem(
                creator_id=p.id,
                display_name=p.display_name,
                followers=p.followers,
                vetting_status=p.vetting_status,
                report=VettingReportView.model_validate(r) if r else None,
            )
            for p, r in found[: page.limit]
        ],
        next_cursor=next_cursor([p.id for p, _ in found], page.limit),
    )


@router.post("/creators/me/vetting/appeals", status_code=201, response_model=AppealView)
def appeal(body: AppealCreate, session: DbSession, principal: CurrentPrincipal) -> AppealView:
    """Appeal against your latest score or a decision (creators; one open appeal at a time)."""
    return AppealView.model_validate(service.appeal(session, principal, body.message))


@router.get("/vetting/appeals", response_model=Page[AppealView])
def appeals(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    status: Annotated[Literal["open", "upheld", "dismissed"] | None, Query()] = None,
) -> Page[AppealView]:
    """Appeals: every one for staff, a creator's own for a creator."""
    found = service.list_appeals(session, principal, status, page.after_id, page.limit)
    return Page(
        items=[AppealView.model_validate(a) for a in found[: page.limit]],
        next_cursor=next_cursor([a.id for a in found], page.limit),
    )


@router.post("/vetting/appeals/{appeal_id}/resolve", response_model=AppealView)
def resolve(
    appeal_id: str, body: AppealResolve, session: DbSession, principal: CurrentPrincipal
) -> AppealView:
    """Uphold (the creator is approved) or dismiss an open appeal (staff)."""
    row = service.resolve_appeal(session, principal, appeal_id, body.outcome, body.note)
    return AppealView.model_validate(row)
