"""Comments on published posts: read through the platform's connector, classified for
sentiment when stored, and summarised for reports (sentiment, hot words, share of voice)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.analytics import repository as repo
from pappus.analytics.links import require_brand_write
from pappus.analytics.models import PostComment
from pappus.connectors import service as connectors
from pappus.connectors.base import ConnectorError
from pappus.db import Database
from pappus.errors import Conflict, PappusError
from pappus.kit.clock import now
from pappus.kit.ids import new_id
from pappus.orders import service as orders

logger = logging.getLogger("pappus.analytics")

FETCH_LIMIT = 200
HOT_WORDS = 20

# Words too common to say anything about a campaign (Chinese function words, English stop
# words, and the filler of comment sections).
_CHINESE_STOP_WORDS = (
    "的 了 是 我 你 他 她 它 们 这 那 在 有 和 就 都 也 还 又 很 太 吧 吗 呢 啊 呀 哦 嗯 哈 哈哈 "
    "哈哈哈 一个 这个 那个 什么 怎么 没有 不是 就是 还是 可以 自己 真的 感觉 觉得 一下 已经 因为 "
    "所以 但是 然后 如果 一样 这样 那样 现在 时候 知道 看到 东西 出来 起来 一直 我们 你们 他们 "
    "姐妹 宝宝 博主"
)
_ENGLISH_STOP_WORDS = (
    "the and for you this that with was are but not have has had its it's just very really "
    "what when where which who how all any can will would could should about from they them "
    "your our out get got one his her she him too than then also been being more most some"
)
STOP_WORDS = frozenset(_CHINESE_STOP_WORDS.split()) | frozenset(_ENGLISH_STOP_WORDS.split())
_WORD = re.compile(r"[a-z][a-z'\u2019-]{2,}|\d+[a-z]+")
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


class PlatformUnavailable(PappusError):
    status = 502
    code = "platform_unavailable"
    title = "The social platform could not be reached"


def _author_hash(author: str) -> str:
    return hashlib.sha256(author.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Target:
    order_id: str
    campaign_id: str
    account_id: str
    post_id: str


def _target(session: Session, order_id: str) -> _Target | None:
    publication = orders.publications_of(session, [order_id]).get(order_id)
    if publication is None or not publication.social_account_id or not publication.external_post_id:
        return None
    order = orders.order_by_id(session, order_id)
    return _Target(
        order_id, order.campaign_id, publication.social_account_id, publication.external_post_id
    )


def sync_comments(db: Database, order_id: str) -> int:
    """Read the post's latest comments and store the new ones; returns how many were new.
    Runs outside any transaction while the platform answers. Raises ConnectorError."""
    from pappus.sentiment.model import MODEL_VERSION, classify_many

    with db.unit_of_work(write=False) as session:
        target = _target(session, order_id)
        if target is None:
            return 0
        known = repo.known_comment_ids(session, order_id)
    found = connectors.call_platform(
        db, target.account_id, lambda c, token: c.comments(token, target.post_id, FETCH_LIMIT)
    )
    new = [c for c in found if c.id not in known]
    if not new:
        return 0
    verdicts = classify_many([c.text for c in new])
    at = now()
    rows = [
        {
            "id": new_id("cmt"),
            "order_id": target.order_id,
            "campaign_id": target.campaign_id,
            "external_id": comment.id[:200],
            "author_hash": _author_hash(comment.author),
            "text": comment.text[:5000],
            "posted_at": comment.created_at,
            "sentiment": verdict.label,
            "sentiment_score": verdict.score,
            "model_version": MODEL_VERSION,
            "fetched_at": at,
        }
        for comment, verdict in zip(new, verdicts, strict=True)
    ]
    with db.unit_of_work() as session:
        inserted = repo.insert_comments(session, rows)
        repo.insert_comment_words(
            session,
            [
                {
                    "comment_id": row["id"],
                    "word": word,
                    "order_id": row["order_id"],
                    "sentiment": row["sentiment"],
                }
                for row in rows
                if row["id"] in inserted
                for word in words_of(str(row["text"]))
                if len(word) <= 60
            ],
        )
        return len(inserted)


def request_sync(db: Database, principal: Principal, order_id: str) -> int:
    """The brand (or staff) asks for the comments now instead of at the next scheduled read."""
    with db.unit_of_work(write=False) as session:
        order = orders.get_order(session, principal, order_id)
        require_brand_write(principal, order.organization_id)
        if _target(session, order_id) is None:
            raise Conflict(
                "the order has no verified post on a platform Pappus reads comments from",
                code="no_verified_post",
            )
    try:
        return sync_comments(db, order_id)
    except ConnectorError as exc:
        raise PlatformUnavailable(f"{exc}; try again shortly") from None


def list_comments(
    session: Session,
    principal: Principal,
    order_id: str,
    sentiment: str | None,
    after_id: str | None,
    limit: int,
) -> list[PostComment]:
    order = orders.get_order(session, principal, order_id)
    return list(repo.comments_of(session, order.id, sentiment, after_id, limit))


def sync_due(db: Database, limit: int = 200) -> int:
    """The scheduled read: every watched publication's comments (errors are logged, and the
    next run tries again)."""
    with db.unit_of_work(write=False) as session:
        order_ids = orders.watched_order_ids(session, now(), limit)
    stored = 0
    for order_id in order_ids:
        try:
            stored += sync_comments(db, order_id)
        except ConnectorError as exc:
            logger.warning("reading comments of %s failed: %s", order_id, exc)
    return stored


# -- summaries --------------------------------------------------------------------------------


@cache
def _segmenter() -> Any:
    """jieba, loaded once per process (its dictionary takes a few seconds the first time)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words_of(text: str) -> set[str]:
    """The distinct content words of a comment: jieba for Chinese, letters for the rest."""
    lowered = text.lower()
    words = set(_WORD.findall(lowered))
    if _HAS_CJK.search(lowered):
        words.update(w for w in _segmenter().lcut(lowered) if len(w) >= 2 and _HAS_CJK.search(w))
    return {w for w in words if w not in STOP_WORDS}


def sentiment_summary(session: Session, order_ids: list[str]) -> dict[str, Any]:
    counts = {label: (n, score) for label, n, score in repo.sentiment_counts(session, order_ids)}
    total = sum(n for n, _ in counts.values())
    positive = counts.get("positive", (0, 0.0))[0]
    negative = counts.get("negative", (0, 0.0))[0]
    summed = sum(float(score or 0) for _, score in counts.values())
    return {
        "comments": total,
        "positive": positive,
        "neutral": counts.get("neutral", (0, 0.0))[0],
        "negative": negative,
        "positive_share": round(positive / total, 4) if total else None,
        "negative_share": round(negative / total, 4) if total else None,
        # (positive - negative) / all, from -1 to 1
        "net_sentiment": round((positive - negative) / total, 4) if total else None,
        "mean_score": round(summed / total, 4) if total else None,
    }


def hot_words(
    session: Session, order_ids: list[str], limit: int = HOT_WORDS
) -> list[dict[str, Any]]:
    """The words in the most comments (at least two), each with how many of those comments
    were positive and negative."""
    return [
        {"word": word, "comments": int(n), "positive": int(pos or 0), "negative": int(neg or 0)}
        for word, n, pos, neg in repo.hot_word_counts(session, order_ids, limit)
        if n >= 2
    ]


def share_of_voice(
    session: Session,
    order_ids: list[str],
    brand_terms: Iterable[str],
    competitors: dict[str, list[str]],
) -> dict[str, Any]:
    """Mentions of the brand and of each named competitor in the comments (a comment counts
    once per name it mentions, case-insensitively), each name's share of all mentions, and
    their sentiment."""
    names = {"brand": [t.strip().lower() for t in brand_terms if t.strip()]}
    names.update(
        {
            name: [t.strip().lower() for t in terms if t.strip()]
            for name, terms in competitors.items()
        }
    )
    counts = repo.mention_counts(session, order_ids, names)
    total = sum(c[0] for c in counts.values())
    return {
        "total_mentions": total,
        "names": [
            {
                "name": name,
                "terms": names[name],
                "mentions": counts[name][0],
                "positive": counts[name][1],
                "negative": counts[name][2],
                "share": round(counts[name][0] / total, 4) if total else None,
            }
            for name in names
        ],
    }
