"""Publication through the platform's connector: verifying the post a creator submits, and
reading its metrics on a schedule.

When the order's platform has a connector, `publish` reads the submitted post from the
platform with the creator's linked account, outside any transaction, and checks it:

- post_exists: the platform has the post (not deleted, not private);
- author: it was published by one of the creator's linked accounts;
- published_after_order: it went up after the order was created (an old post is not the
  deliverable);
- matches_draft: its title and text are close enough to the approved draft (`similarity`);
- hashtags: every hashtag of the approved draft is on the post;
- disclosure_label: it carries the platform's brand-partnership label.

A post that fails a check is refused (422 `publication_not_verified`, naming every check) and
nothing changes: the creator fixes the post and submits again before the deadline. When the
platform cannot be reached nothing changes either (502 `platform_unavailable`). A verified
publication records the platform's own publication time and a first metric snapshot.

Platforms without a connector keep the brand's review as the only check: the publication is
recorded as submitted, `verification_status` "unverified".

Afterwards `snapshot_publication` (a periodic job, orders/tasks.py) reads the post again
every `metrics_snapshot_minutes`, stores a metric snapshot (source "connector"), records
whether the post is still up and still labelled (`post_status`), and audits its newest
comments (`verification.comment_audit`, read by the inflation check at completion).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from pappus.accounts.principal import Principal
from pappus.config import get_settings
from pappus.connectors import service as connectors
from pappus.connectors.base import ConnectorError, PlatformPost
from pappus.db import Database
from pappus.errors import Conflict, InvalidInput, PappusError
from pappus.kit.clock import now
from pappus.orders import repository as repo
from pappus.orders import schemas, service
from pappus.orders.models import MetricSnapshot, Publication
from pappus.orders.workflow import State
from pappus.vetting.signals import digit_heavy, low_quality

logger = logging.getLogger(__name__)

SHINGLE = 3  # characters per shingle in `similarity`
COMMENTS_AUDITED = 100  # comments read with each scheduled metric read (orders/inflation.py)
# Orders whose post is still measured: published, or disputed after publication.
MEASURED_STATES = (State.published.value, State.disputed.value)


class PublicationNotVerified(InvalidInput):
    code = "publication_not_verified"
    title = "The post did not pass verification"


class PlatformUnavailable(PappusError):
    status = 502
    code = "platform_unavailable"
    title = "The social platform could not be reached"


class SocialAccountRequired(InvalidInput):
    code = "social_account_required"


class SocialAccountNeedsRelink(Conflict):
    code = "social_account_needs_relink"
    title = "The linked social account must be linked again"


@dataclass(frozen=True)
class Check:
    check: str
    passed: bool
    detail: str


_HASHTAG = re.compile(r"#[^\s#]+#?")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Compatibility forms folded (full-width letters, ideographic spaces), case folded,
    hashtags and punctuation dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", _HASHTAG.sub(" ", folded)).split())


def _shingles(text: str) -> Counter[str]:
    if len(text) < SHINGLE:
        return Counter([text]) if text else Counter()
    return Counter(text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1))


def similarity(a: str, b: str) -> float:
    """The Dice coefficient of the two texts' character trigrams, after `normalise`: 1.0 for
    the same text, near 0 for unrelated ones.

    Character n-grams work alike for Chinese (no spaces between words) and English, and order
    matters only locally, so a creator may move a paragraph or add a closing line and still
    match; a post that adds half as much again to the draft scores 0.8.
    """
    left, right = _shingles(normalise(a)), _shingles(normalise(b))
    total = left.total() + right.total()
    if total == 0:
        return 1.0
    return 2 * (left & right).total() / total


def _tag(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold().strip().strip("#").strip()


@dataclass(frozen=True)
class ApprovedDraft:
    round: int
    title: str
    body: str
    hashtags: tuple[str, ...]


def check_post(
    post: PlatformPost,
    *,
    author_ids: frozenset[str],
    draft: ApprovedDraft | None,
    not_before: datetime,
    min_similarity: float,
) -> list[Check]:
    """Every check on a post the platform returned (post_exists has passed by then)."""
    checks = [Check("post_exists", True, f"post {post.id} is on the platform")]
    checks.append(
        Check(
            "author",
            post.author_open_id in author_ids,
            "published by the creator's linked account"
            if post.author_open_id in author_ids
            else f"published by {post.author_open_id}, not by the creator's linked account",
        )
    )
    after = post.published_at >= not_before
    checks.append(
        Check(
            "published_after_order",
            after,
            f"published at {post.published_at.isoformat()}"
            + ("" if after else f", before the order was created at {not_before.isoformat()}"),
        )
    )
    if draft is None:
        checks.append(Check("matches_draft", False, "the order has no approved draft"))
    else:
        score = similarity(f"{draft.title}\n{draft.body}", f"{post.title}\n{post.text}")
        checks.append(
            Check(
                "matches_draft",
                score >= min_similarity,
                f"similarity {score:.2f} to the approved draft (round {draft.round}); "
                f"at least {min_similarity:.2f} is needed",
            )
        )
        on_post = {_tag(t) for t in post.hashtags} | {
            _tag(t) for t in _HASHTAG.findall(unicodedata.normalize("NFKC", post.text))
        }
        missing = [t for t in draft.hashtags if _tag(t) and _tag(t) not in on_post]
        checks.append(
            Check(
                "hashtags",
                not missing,
                "every hashtag of the approved draft is on the post"
                if not missing
                else f"missing the approved draft's hashtags: {', '.join(missing)}",
            )
        )
    checks.append(
        Check(
            "disclosure_label",
            post.partnership_label,
            "carries the brand-partnership label"
            if post.partnership_label
            else "the post does not carry the platform's brand-partnership label; switch it on",
        )
    )
    return checks


@dataclass(frozen=True)
class _Plan:
    platform: str
    account_id: str | None  # None: the platform has no connector
    author_ids: frozenset[str]
    draft: ApprovedDraft | None
    order_created_at: datetime


def _plan(db: Database, principal: Principal, order_id: str, platform: str | None) -> _Plan:
    """Authorize the caller and gather what verification needs, in a short read."""
    with db.unit_of_work(write=False) as session:
        order, chosen = service.check_can_publish(session, principal, order_id, platform)
        draft = repo.latest_draft(session, order.id)
        approved = None
        if draft is not None and draft.status == "approved":
            approved = ApprovedDraft(draft.round, draft.title, draft.body, tuple(draft.hashtags))
        if chosen not in connectors.PLATFORMS:
            return _Plan(chosen, None, frozenset(), approved, order.created_at)
        accounts = connectors.active_accounts(session, order.creator_id, chosen)
        if not accounts:
            raise SocialAccountRequired(
                f"link your {chosen} account first (POST /api/v1/creators/me/social-accounts):"
                " the post is verified through it"
            )
        return _Plan(
            chosen,
            accounts[0].id,
            frozenset(a.external_id for a in accounts),
            approved,
            order.created_at,
        )


def publish(
    db: Database, principal: Principal, order_id: str, body: schemas.PublicationCreate
) -> Publication:
    """Verify the post through the platform's connector, then record the publication."""
    plan = _plan(db, principal, order_id, body.platform)
    if plan.account_id is None:
        with db.unit_of_work() as session:
            return service.publish(session, principal, order_id, body, plan.platform)
    connector = connectors.connector_for(plan.platform)
    post_id = connector.post_id_from_url(str(body.post_url))
    if post_id is None:
        raise InvalidInput(f"this is not the URL of a post on {plan.platform}", field="post_url")
    try:
        post = connectors.call_platform(db, plan.account_id, lambda c, t: c.post(t, post_id))
    except ConnectorError as exc:
        if exc.status == 404:
            missing = Check("post_exists", False, f"{plan.platform} has no post {post_id}")
            raise PublicationNotVerified(
                f"{plan.platform} has no post {post_id}: it was deleted, is private or the URL"
                " is wrong",
                checks=[asdict(missing)],
            ) from None
        if exc.retryable:
            raise PlatformUnavailable(
                f"{exc}; nothing was recorded, submit the publication again shortly"
            ) from None
        raise SocialAccountNeedsRelink(
            f"{plan.platform} refused the linked account's tokens ({exc}); link it again"
        ) from None
    settings = get_settings()
    checks = check_post(
        post,
        author_ids=plan.author_ids,
        draft=plan.draft,
        not_before=plan.order_created_at,
        min_similarity=settings.publication_min_similarity,
    )
    failed = [c for c in checks if not c.passed]
    if failed:
        raise PublicationNotVerified(
            "the post failed verification: " + "; ".join(c.detail for c in failed),
            checks=[asdict(c) for c in checks],
        )
    verified = service.VerifiedPost(
        social_account_id=plan.account_id,
        post=post,
        checks=[asdict(c) for c in checks],
        draft_round=plan.draft.round if plan.draft else None,
    )
    with db.unit_of_work() as session:
        return service.publish(session, principal, order_id, body, plan.platform, verified)


# -- scheduled metric snapshots -------------------------------------------------------------


def snapshot_every() -> timedelta:
    return timedelta(minutes=get_settings().metrics_snapshot_minutes)


def publications_due(db: Database, limit: int = 500) -> list[str]:
    """Verified publications of orders still measured, not read within the interval."""
    with db.unit_of_work(write=False) as session:
        return list(
            repo.publications_due(
                session,
                now() - snapshot_every(),
                MEASURED_STATES,
                limit,
                watched_state=State.completed.value,
                now=now(),
            )
        )


def snapshot_publication(db: Database, publication_id: str) -> str:
    """Read the post's metrics from the platform and store them as a snapshot.

    Returns recorded, unchanged (the platform's figures were already stored), removed (the
    post is gone), skipped (nothing to measure) or failed (the platform refused us for good).
    A retryable platform fault is counted and raised for the job to retry with backoff.
    """
    with db.unit_of_work(write=False) as session:
        publication = repo.publication_by_id(session, publication_id)
        if publication is None or publication.verification_status != "verified":
            return "skipped"
        order = repo.get(session, publication.order_id)
        watched = (
            order is not None
            and order.state == State.completed
            and publication.watch_until is not None
            and publication.watch_until > now()
        )
        if order is None or (order.state not in MEASURED_STATES and not watched):
            return "skipped"
        account_id, post_id = publication.social_account_id, publication.external_post_id
    if account_id is None or post_id is None:
        return "skipped"
    try:
        post, comments = connectors.call_platform(
            db,
            account_id,
            lambda c, t: (c.post(t, post_id), c.comments(t, post_id, COMMENTS_AUDITED)),
        )
    except ConnectorError as exc:
        if exc.status == 404:
            _record_check(db, publication_id, post_status="removed")
            return "removed"
        _record_check(db, publication_id, error=str(exc))
        if exc.retryable:
            raise
        return "failed"
    metrics = post.metrics
    outcome = "unchanged"
    with db.unit_of_work() as session:
        publication = repo.publication_by_id(session, publication_id)
        if publication is None:
            return "skipped"
        publication.post_status = "live" if post.partnership_label else "label_removed"
        service.note_post_status(session, publication.order_id, publication.post_status, now())
        suspicious = sum(1 for c in comments if low_quality(c.text) or digit_heavy(c.author))
        publication.verification = {
            **(publication.verification or {}),
            "comment_audit": {
                "comments": len(comments),
                "suspicious": suspicious,
                "read_at": now().isoformat(),
            },
        }
        publication.last_checked_at = now()
        publication.check_failures, publication.last_check_error = 0, None
        taken_at = max(metrics.at, publication.published_at)
        if repo.snapshot_at(session, publication.order_id, taken_at) is None:
            snapshot = MetricSnapshot.from_connector(publication.order_id, metrics, taken_at, now())
            try:
                with session.begin_nested():
                    repo.add(session, snapshot)
                outcome = "recorded"
            except IntegrityError:
                outcome = "unchanged"  # another worker stored the same reading
    return outcome


def _record_check(
    db: Database, publication_id: str, *, post_status: str | None = None, error: str | None = None
) -> None:
    with db.unit_of_work() as session:
        publication = repo.publication_by_id(session, publication_id)
        if publication is None:
            return
        publication.last_checked_at = now()
        if post_status is not None:
            publication.post_status = post_status
            service.note_post_status(session, publication.order_id, post_status, now())
        if error is not None:
            publication.check_failures += 1
            publication.last_check_error = error[:500]
    if error is not None:
        logger.warning("metrics of publication %s not read: %s", publication_id, error)


def check_failures(db: Database, publication_id: str) -> int:
    with db.unit_of_work(write=False) as session:
        publication = repo.publication_by_id(session, publication_id)
        return publication.check_failures if publication else 0
