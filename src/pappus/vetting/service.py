"""The vetting workflow: scoring a creator through their linked account, the staff review
queue, decisions, appeals, and re-scoring.

Statuses (the creator profile's `vetting_status`, which discovery filters on):
- unvetted: never scored;
- pending: scored, waiting in the staff review queue (every creator's first score);
- approved / rejected: a staff decision;
- flagged: in the queue again, because staff flagged them, or a re-score of an approved
  creator came out flagged or fell by DROP_FLAGS points or more.

Scoring reads the platform outside any transaction (connectors.call_platform) and writes the
report, the profile's score and status in one transaction at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.audit import service as audit
from pappus.connectors import service as connectors
from pappus.connectors.base import Connector, ConnectorError
from pappus.connectors.service import SETTLED_AFTER
from pappus.creators import service as creators
from pappus.creators.models import CreatorProfile
from pappus.creators.taxonomy import tier_for
from pappus.db import Database
from pappus.errors import Conflict, Forbidden, InvalidInput, NotFound
from pappus.kit.clock import now
from pappus.vetting import repository as repo
from pappus.vetting.models import VettingAppeal, VettingDecision, VettingReport
from pappus.vetting.schemas import FollowerProfileIn
from pappus.vetting.signals import SCORE_VERSION, Comment, Evidence, PostStats, quality_score

logger = logging.getLogger(__name__)

FOLLOWER_SAMPLE = 200
POSTS_READ = 30
POSTS_WITH_COMMENTS = 5
COMMENTS_PER_POST = 50
RESCORE_EVERY = timedelta(days=7)
DROP_FLAGS = 15  # points lost since the last score that put an approved creator back in review
QUEUE_STATUSES = ("pending", "flagged")
DECISIONS = {"approve": "approved", "reject": "rejected", "flag": "flagged"}


class NothingToScore(Conflict):
    code = "no_linked_account"
    title = "The creator has no linked social account to score"


@dataclass(frozen=True)
class _Read:
    evidence: Evidence
    account_id: str


def _read_account(db: Database, creator_id: str) -> _Read:
    """Everything the score needs, read from the creator's largest active linked account."""
    with db.unit_of_work(write=False) as session:
        profile = creators.get_profile(session, creator_id)
        accounts = [
            a
            for platform in connectors.PLATFORMS
            for a in connectors.active_accounts(session, creator_id, platform)
        ]
        if not accounts:
            raise NothingToScore("link a social account first: the score reads its audience")
        main = max(accounts, key=lambda a: (a.followers, a.id))
        account_id = main.id
        category = profile.categories[0] if profile.categories else None
        index = creators.discovery_index(session)

    def read(connector: Connector, token: str) -> Evidence:
        profile_now = connector.profile(token)
        sample = connector.follower_sample(token, FOLLOWER_SAMPLE)
        history = connector.follower_history(token)
        posts = connectors.recent_posts(connector, token, POSTS_READ)
        at = profile_now.as_of
        settled = [p for p in posts if at - p.published_at >= SETTLED_AFTER]
        comments = [
            Comment(c.author, c.text)
            for p in settled[:POSTS_WITH_COMMENTS]
            for c in connector.comments(token, p.id, COMMENTS_PER_POST)
        ]
        tier = tier_for(profile_now.followers)
        return Evidence(
            followers=profile_now.followers,
            tier=tier,
            category=category,
            follower_sample=[FollowerProfileIn.model_validate(f.model_dump()) for f in sample],
            follower_history=[(h.date, h.followers) for h in history],
            posts=[PostStats.of(p.metrics, p.published_at, at) for p in posts],
            comments=comments,
            engagement_benchmark=index.engagement_median(tier, category),
        )

    return _Read(connectors.call_platform(db, account_id, read), account_id)


def score_creator(db: Database, creator_id: str) -> VettingReport:
    """Score the creator now and apply the workflow's rules to their status."""
    read = _read_account(db, creator_id)
    result = quality_score(read.evidence)
    with db.unit_of_work() as session:
        profile = creators.get_profile(session, creator_id)
        previous = repo.latest_report(session, creator_id)
        report = VettingReport(
            creator_id=creator_id,
            social_account_id=read.account_id,
            score=result.score,
            flagged=result.flagged,
            red_flags=list(result.red_flags),
            components=[c.as_dict() for c in result.components],
            authenticity=dict(result.authenticity),
            version=SCORE_VERSION,
            created_at=now(),
        )
        repo.add(session, report)
        profile.audience_quality_score = result.score
        _after_score(session, profile, report, previous)
    return report


def _after_score(
    session: Session,
    profile: CreatorProfile,
    report: VettingReport,
    previous: VettingReport | None,
) -> None:
    if profile.vetting_status == "unvetted":
        profile.vetting_status = "pending"
        return
    if profile.vetting_status != "approved":
        return
    dropped = (
        previous is not None
        and previous.score is not None
        and report.score is not None
        and previous.score - report.score >= DROP_FLAGS
    )
    if report.flagged or dropped:
        reason = (
            f"re-score flagged: {', '.join(report.red_flags) or f'score {report.score}'}"
            if report.flagged
            else f"score fell from {previous.score} to {report.score}"  # type: ignore[union-attr]
        )
        profile.vetting_status = "flagged"
        repo.add(
            session,
            VettingDecision(
                creator_id=profile.id,
                report_id=report.id,
                decision="flag",
                reason=reason,
                decided_by=None,
            ),
        )
        audit.record(
            session,
            "vetting.flag",
            "creator",
            profile.id,
            data={"report_id": report.id, "reason": reason, "score": report.score},
        )


# -- reading --------------------------------------------------------------------------------


def require_creator(session: Session, creator_id: str) -> None:
    creators.get_profile(session, creator_id)


def _may_see(session: Session, principal: Principal, creator_id: str) -> None:
    """Brands and staff see every creator's evidence; a creator sees only their own."""
    creators.get_profile(session, creator_id)
    if principal.is_staff or principal.creator_id == creator_id:
        return
    if principal.kind == "creator":
        raise Forbidden("a creator sees only their own vetting report")


def latest(session: Session, principal: Principal, creator_id: str) -> VettingReport:
    _may_see(session, principal, creator_id)
    report = repo.latest_report(session, creator_id)
    if report is None:
        raise NotFound("this creator has not been scored yet")
    return report


def history(
    session: Session, principal: Principal, creator_id: str, after_id: str | None, limit: int
) -> list[VettingReport]:
    _may_see(session, principal, creator_id)
    return list(repo.reports(session, creator_id, after_id, limit))


def queue(
    session: Session, principal: Principal, status: str | None, after_id: str | None, limit: int
) -> list[tuple[CreatorProfile, VettingReport | None]]:
    principal.require_staff()
    statuses = (status,) if status else QUEUE_STATUSES
    found = creators.with_vetting_status(session, statuses, after_id, limit)
    return [(p, repo.latest_report(session, p.id)) for p in found]


# -- staff decisions and appeals ------------------------------------------------------------


def decide(
    session: Session, principal: Principal, creator_id: str, decision: str, reason: str
) -> VettingDecision:
    principal.require_staff()
    profile = creators.get_profile(session, creator_id)
    if decision not in DECISIONS:
        raise InvalidInput(f"decision is one of {', '.join(DECISIONS)}", field="decision")
    report = repo.latest_report(session, creator_id)
    if report is None and decision == "approve":
        raise Conflict("score the creator before approving them", code="not_scored")
    profile.vetting_status = DECISIONS[decision]
    row = VettingDecision(
        creator_id=creator_id,
        report_id=report.id if report else None,
        decision=decision,
        reason=reason,
        decided_by=principal.actor_id,
    )
    repo.add(session, row)
    audit.record(
        session,
        f"vetting.{decision}",
        "creator",
        creator_id,
        actor=principal,
        data={"report_id": row.report_id, "reason": reason, "status": profile.vetting_status},
    )
    return row


def decisions(session: Session, principal: Principal, creator_id: str) -> list[VettingDecision]:
    _may_see(session, principal, creator_id)
    return list(repo.decisions(session, creator_id))


def appeal(session: Session, principal: Principal, message: str) -> VettingAppeal:
    if principal.creator_id is None:
        raise Forbidden("only creators appeal their own score")
    report = repo.latest_report(session, principal.creator_id)
    if report is None:
        raise Conflict("there is no score to appeal yet", code="not_scored")
    if repo.open_appeal(session, principal.creator_id) is not None:
        raise Conflict("you already have an open appeal", code="appeal_open")
    row = VettingAppeal(creator_id=principal.creator_id, report_id=report.id, message=message)
    repo.add(session, row)
    audit.record(
        session,
        "vetting.appeal",
        "creator",
        principal.creator_id,
        actor=principal,
        data={"appeal_id": row.id, "report_id": report.id},
    )
    return row


def list_appeals(
    session: Session, principal: Principal, status: str | None, after_id: str | None, limit: int
) -> list[VettingAppeal]:
    if principal.is_staff:
        return list(repo.appeals(session, status, None, after_id, limit))
    if principal.creator_id is not None:
        return list(repo.appeals(session, status, principal.creator_id, after_id, limit))
    raise Forbidden("appeals are seen by the creator who made them and by staff")


def resolve_appeal(
    session: Session, principal: Principal, appeal_id: str, outcome: str, note: str
) -> VettingAppeal:
    """Uphold (the creator is approved) or dismiss (nothing changes) an open appeal."""
    principal.require_staff()
    row = repo.appeal(session, appeal_id, lock=True)
    if row is None:
        raise NotFound("appeal not found")
    if row.status != "open":
        raise Conflict(f"the appeal was already {row.status}", code="appeal_resolved")
    row.status, row.resolution_note = outcome, note
    row.resolved_by, row.resolved_at = principal.actor_id, now()
    audit.record(
        session,
        f"vetting.appeal_{outcome}",
        "creator",
        row.creator_id,
        actor=principal,
        data={"appeal_id": row.id, "note": note},
    )
    if outcome == "upheld":
        decide(session, principal, row.creator_id, "approve", f"appeal upheld: {note}")
    return row


def creators_due(db: Database, limit: int = 200) -> list[str]:
    with db.unit_of_work(write=False) as session:
        return list(repo.creators_due(session, now() - RESCORE_EVERY, limit))


def score_or_log(db: Database, creator_id: str) -> str:
    """For the periodic job: score, or say why not (a platform fault is raised to retry)."""
    try:
        score_creator(db, creator_id)
    except NothingToScore:
        return "skipped"
    except ConnectorError as exc:
        if exc.retryable:
            raise
        logger.warning("vetting %s: the platform refused: %s", creator_id, exc)
        return "failed"
    return "scored"
