"""The audience-quality score on the sandbox world, whose fraud labels are known: the evidence
a connector would read for each account, built in-process from the world's generator (the
same functions the sandbox's HTTP API serves), and scored. Used by bench/vetting.py and the
tests."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pappus.creators.taxonomy import tier_for
from pappus.sandbox import world as w
from pappus.vetting.schemas import FollowerProfileIn
from pappus.vetting.signals import Comment, Evidence, PostStats, QualityScore, quality_score

FOLLOWER_SAMPLE = 200
POSTS_READ = 30
POSTS_WITH_COMMENTS = 5
COMMENTS_PER_POST = 50


@dataclass(frozen=True)
class Labelled:
    index: int
    fraud: tuple[str, ...]
    result: QualityScore


def evidence(spec: w.WorldSpec, acc: w.Account, benchmark: float | None = None) -> Evidence:
    today = w.now(spec)
    posts = w.posts(spec, acc)[:POSTS_READ]
    stats = [PostStats.of(p.metrics, p.published_at, today) for p in posts]
    settled = [p for p in posts if (today - p.published_at).days >= 5][:POSTS_WITH_COMMENTS]
    comments = [
        Comment(c.author, c.text) for p in settled for c in w.comments(spec, p, COMMENTS_PER_POST)
    ]
    sample = [
        FollowerProfileIn.model_validate({k: v for k, v in vars(f).items() if k != "fake"})
        for f in w.follower_sample(spec, acc, FOLLOWER_SAMPLE)
    ]
    return Evidence(
        followers=acc.followers,
        tier=tier_for(acc.followers),
        category=acc.category,
        follower_sample=sample,
        follower_history=w.follower_history(spec, acc),
        posts=stats,
        comments=comments,
        engagement_benchmark=benchmark,
    )


def listed_accounts(spec: w.WorldSpec) -> Iterator[w.Account]:
    """Accounts Pappus would list (1,000 followers or more)."""
    for index in range(spec.accounts):
        acc = w.account(spec, index)
        if tier_for(acc.followers) is not None:
            yield acc


def peer_benchmarks(spec: w.WorldSpec, accounts: list[w.Account]) -> dict[tuple[str, str], float]:
    """Median engagement rate per (tier, category) over the population, frauds included (the
    platform cannot leave out what it has not caught)."""
    rates: dict[tuple[str, str], list[float]] = {}
    today = w.now(spec)
    for acc in accounts:
        posts = [p for p in w.posts(spec, acc)[:POSTS_READ] if (today - p.published_at).days >= 5]
        if not posts:
            continue
        rate = statistics.median(
            (p.metrics.likes + p.metrics.saves + p.metrics.comments + p.metrics.shares)
            / acc.followers
            for p in posts
        )
        rates.setdefault((tier_for(acc.followers) or "", acc.category), []).append(rate)
    return {key: statistics.median(values) for key, values in rates.items() if len(values) >= 5}


def score_world(
    spec: w.WorldSpec, progress: Callable[[int], None] = lambda _: None
) -> list[Labelled]:
    accounts = list(listed_accounts(spec))
    benchmarks = peer_benchmarks(spec, accounts)
    found = []
    for acc in accounts:
        key = (tier_for(acc.followers) or "", acc.category)
        result = quality_score(evidence(spec, acc, benchmarks.get(key)))
        found.append(Labelled(acc.index, acc.fraud, result))
        progress(1)
    return found


def separation(found: list[Labelled]) -> dict[str, float | int]:
    """Precision, recall and F1 of "flagged" against the fraud labels."""
    flagged_fraud = sum(1 for f in found if f.result.flagged and f.fraud)
    flagged = sum(1 for f in found if f.result.flagged)
    fraud = sum(1 for f in found if f.fraud)
    precision = flagged_fraud / flagged if flagged else 0.0
    recall = flagged_fraud / fraud if fraud else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "creators": len(found),
        "fraudulent": fraud,
        "flagged": flagged,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }
