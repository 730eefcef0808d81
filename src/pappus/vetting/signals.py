"""The audience-quality score: explainable signals of fake followers and bought engagement,
each with its value, its benchmark and its weight, combined into a score from 0 to 100.

Every signal reads what a connector returns for a linked account (vetting/service.py fetches
it): a follower sample, the follower history, recent posts with their metrics and a sample of
their comments. Each becomes a sub-score from 0 (looks fraudulent) to 100 (looks genuine); the
score is their weighted mean. Signals without data (no comments, say) are left out and the
remaining weights rescaled. The rules, thresholds and weights are documented in
docs/vetting.md; the sandbox's labelled creators measure how well they separate fraud
(bench/vetting.py).
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pappus.vetting.followers import probabilities, shipped_report
from pappus.vetting.schemas import FollowerProfileIn

SCORE_VERSION = 1
FLAG_BELOW = 60  # a score under this flags the creator for staff review
# ... and so does one strong signal of a fraud scheme on its own: one of these scoring this
# or less is a red flag (a scheme rarely shows in every signal). A low engagement rate alone
# is not: plenty of genuine creators have quiet audiences.
RED_FLAG_AT = 20
RED_FLAG_SIGNALS = frozenset(
    {"follower_authenticity", "saves_to_likes", "growth_spikes", "comment_quality"}
)
MIN_COMMENTS = 10  # comment signals need this many comments ...
MIN_COMMENTS_FOR_RED_FLAG = 30  # ... and this many to raise a red flag on their own
# Weights of the signals (they sum to 1).
WEIGHTS = {
    "follower_authenticity": 0.30,
    "engagement_rate": 0.15,
    "saves_to_likes": 0.15,
    "likes_to_comments": 0.05,
    "growth_spikes": 0.15,
    "comment_quality": 0.10,
    "suspicious_commenters": 0.10,
}
# Engagement-rate benchmarks by tier when the platform has too few peers of the creator's
# tier and category (medians reported for Xiaohongshu/Instagram in 2024 industry reports,
# the same figures the sandbox draws from: docs/sandbox.md).
DEFAULT_TIER_ENGAGEMENT = {"nano": 0.042, "koc": 0.028, "mid": 0.019, "head": 0.012}
# Saves per like and likes per comment on genuine lifestyle posts (typical Xiaohongshu
# ranges); bought likes arrive without the saves and comments real readers leave.
SAVES_PER_LIKE_TYPICAL = 0.30
LIKES_PER_COMMENT_TYPICAL = 8.0
SPIKE_Z = 8.0  # robust z-score of a daily follower change that counts as a spike
SPIKE_MIN_SHARE = 0.05  # ... and only if it adds at least this share of the followers

GENERIC_COMMENTS = {
    # English
    "nice", "nice post", "nice pic", "great", "great post", "great content", "awesome",
    "amazing", "cool", "wow", "love it", "so cute", "beautiful", "good", "perfect", "super",
    "follow back", "follow me", "followback",
    # Chinese
    "好看", "不错", "不错不错", "真好", "好棒", "赞", "点赞", "支持", "厉害", "互粉", "互关",
    "回关", "关注我", "关注我互粉",
}  # fmt: skip
SPAM_PATTERNS = re.compile(
    r"check (out )?my (profile|page)|free followers|follow (me|back)|dm me|link in (my )?bio"
    r"|互粉|互关|回关|加微信|加v|私信我|看我主页",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class PostStats:
    views: int
    likes: int
    saves: int
    comments: int
    shares: int
    age_days: float

    @classmethod
    def of(cls, metrics: Any, published_at: datetime, at: datetime) -> PostStats:
        """A post's totals (anything with views, likes, saves, comments and shares) and its
        age at `at`."""
        return cls(
            views=metrics.views,
            likes=metrics.likes,
            saves=metrics.saves,
            comments=metrics.comments,
            shares=metrics.shares,
            age_days=(at - published_at).total_seconds() / 86_400,
        )


@dataclass(frozen=True)
class Comment:
    author: str
    text: str


@dataclass(frozen=True)
class Evidence:
    """What the score reads, as a connector returned it."""

    followers: int
    tier: str | None
    category: str | None
    follower_sample: list[FollowerProfileIn]
    follower_history: list[tuple[date, int]]
    posts: list[PostStats]
    comments: list[Comment]
    engagement_benchmark: float | None = None  # the platform's own peer median, if known


@dataclass(frozen=True)
class Component:
    name: str
    value: float | None
    benchmark: str
    subscore: float | None  # 0..100; None when there was no data
    weight: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": None if self.value is None else round(self.value, 4),
            "benchmark": self.benchmark,
            "subscore": None if self.subscore is None else round(self.subscore, 1),
            "weight": self.weight,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class QualityScore:
    score: int | None
    flagged: bool
    components: list[Component]
    red_flags: list[str] = field(default_factory=list)
    authenticity: dict[str, Any] = field(default_factory=dict)
    version: int = SCORE_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "flagged": self.flagged,
            "flag_below": FLAG_BELOW,
            "red_flags": self.red_flags,
            "version": self.version,
            "authenticity": self.authenticity,
            "components": [c.as_dict() for c in self.components],
        }


def _ramp(value: float, bad: float, good: float) -> float:
    """0 at `bad`, 100 at `good`, linear between (either direction)."""
    if good == bad:
        return 100.0
    share = (value - bad) / (good - bad)
    return 100.0 * min(1.0, max(0.0, share))


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _corrected_fake_share(observed: float, tpr: float, fpr: float) -> float:
    """The Rogan-Gladen estimator: the share of fakes once the classifier's own error rates
    (measured on the dataset's test split) are taken out of the share it flagged."""
    if tpr - fpr <= 0.05:
        return observed
    return min(1.0, max(0.0, (observed - fpr) / (tpr - fpr)))


def authenticity(sample: list[FollowerProfileIn]) -> dict[str, Any]:
    """The estimated share of real followers in a sample, with its 95% interval (Wilson's
    interval of the flagged share, both corrected for the classifier's error rates) and the
    sample size behind it."""
    if not sample:
        return {"real_share": None, "ci95": [0.0, 1.0], "sample_size": 0, "flagged_fake": 0}
    threshold = float(shipped_report()["threshold"])
    flagged = int((probabilities(sample) >= threshold).sum())
    n = len(sample)
    test = shipped_report()["test_split"]
    tpr, fpr = float(test["recall"]), float(test["false_positive_rate"])
    low, high = wilson(flagged, n)
    return {
        "real_share": round(1 - _corrected_fake_share(flagged / n, tpr, fpr), 4),
        "ci95": [
            round(1 - _corrected_fake_share(high, tpr, fpr), 4),
            round(1 - _corrected_fake_share(low, tpr, fpr), 4),
        ],
        "sample_size": n,
        "flagged_fake": flagged,
    }


def _follower_component(found: dict[str, Any]) -> Component:
    share = found["real_share"]
    n = found["sample_size"]
    if share is None:
        return Component(
            "follower_authenticity", None, "at least 85% real", None, 0, "no follower sample"
        )
    return Component(
        "follower_authenticity",
        share,
        "at least 85% real scores 100, 70% or less 0 (73% or less is a red flag)",
        _ramp(share, 0.70, 0.85),
        WEIGHTS["follower_authenticity"],
        f"{share:.0%} of {n} sampled followers look real "
        f"(95% interval {found['ci95'][0]:.0%} to {found['ci95'][1]:.0%})",
    )


def _settled(posts: list[PostStats]) -> list[PostStats]:
    """Posts old enough to have collected their engagement (5 days, as the connector)."""
    return [p for p in posts if p.age_days >= 5] or posts


def _engagement_component(e: Evidence) -> Component:
    posts = _settled(e.posts)
    benchmark = e.engagement_benchmark or DEFAULT_TIER_ENGAGEMENT.get(e.tier or "", 0.03)
    if not posts or e.followers <= 0:
        return Component("engagement_rate", None, f"{benchmark:.2%}", None, 0, "no posts")
    rate = statistics.median((p.likes + p.saves + p.comments + p.shares) for p in posts)
    rate /= e.followers
    ratio = rate / benchmark
    # Far below the peers: followers who never engage. Far above: engagement bought.
    if ratio < 1:
        subscore = _ramp(math.log(ratio), math.log(0.25), math.log(0.6))
    else:
        subscore = _ramp(math.log(ratio), math.log(4.0), math.log(2.2))
    return Component(
        "engagement_rate",
        rate,
        f"{benchmark:.2%} (median of the tier and category)",
        subscore,
        WEIGHTS["engagement_rate"],
        f"median engagement {rate:.2%} of followers, {ratio:.1f}x the benchmark",
    )


def _ratio_components(e: Evidence) -> list[Component]:
    posts = _settled(e.posts)
    likes = sum(p.likes for p in posts)
    saves = sum(p.saves for p in posts)
    comments = sum(p.comments for p in posts)
    found = []
    if likes >= 20:
        saves_per_like = saves / likes
        found.append(
            Component(
                "saves_to_likes",
                saves_per_like,
                f"about {SAVES_PER_LIKE_TYPICAL:.2f} saves per like",
                _ramp(saves_per_like, 0.08, 0.18),
                WEIGHTS["saves_to_likes"],
                f"{saves:,} saves for {likes:,} likes"
                + (": bought likes come without saves" if saves_per_like < 0.18 else ""),
            )
        )
    if comments >= 5:
        likes_per_comment = likes / comments
        found.append(
            Component(
                "likes_to_comments",
                likes_per_comment,
                f"about {LIKES_PER_COMMENT_TYPICAL:.0f} likes per comment",
                _ramp(likes_per_comment, 25.0, 14.0),
                WEIGHTS["likes_to_comments"],
                f"{likes:,} likes for {comments:,} comments",
            )
        )
    return found


def growth_spikes(history: list[tuple[date, int]]) -> list[tuple[date, int, float]]:
    """Days whose follower change is an outlier: robust z-score (median and MAD of the daily
    changes) above SPIKE_Z and at least SPIKE_MIN_SHARE of the followers before."""
    ordered = sorted(history)
    if len(ordered) < 8:
        return []
    deltas = [(ordered[i][0], ordered[i][1] - ordered[i - 1][1], ordered[i - 1][1])
              for i in range(1, len(ordered))]  # fmt: skip
    values = [d for _, d, _ in deltas]
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values) * 1.4826
    scale = max(mad, 1.0)
    spikes = []
    for day, delta, before in deltas:
        z = (delta - median) / scale
        if z >= SPIKE_Z and delta >= SPIKE_MIN_SHARE * max(before, 1):
            spikes.append((day, delta, z))
    return spikes


def _growth_component(e: Evidence) -> Component:
    if len(e.follower_history) < 8:
        return Component("growth_spikes", None, "no spike", None, 0, "too little history")
    spikes = growth_spikes(e.follower_history)
    if not spikes:
        return Component(
            "growth_spikes",
            0,
            "no day gaining 5% of the followers as an outlier",
            100.0,
            WEIGHTS["growth_spikes"],
            f"no outlier in {len(e.follower_history)} days of follower counts",
        )
    day, delta, z = max(spikes, key=lambda s: s[1])
    return Component(
        "growth_spikes",
        float(len(spikes)),
        "no day gaining 5% of the followers as an outlier",
        0.0,
        WEIGHTS["growth_spikes"],
        f"{len(spikes)} spike(s); the largest +{delta:,} followers on {day.isoformat()} "
        f"(robust z {z:.0f})",
    )


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORDS.sub(" ", folded).split())


def _emoji_only(text: str) -> bool:
    """Only symbols (emoji, their modifiers and joiners) and punctuation: no word at all."""
    marks = [c for c in unicodedata.normalize("NFKC", text) if not c.isspace()]
    return bool(marks) and all(
        unicodedata.category(c) in {"So", "Sk", "Mn", "Cf"} or c in "!?.。~" for c in marks
    )


def low_quality(comment: str) -> str | None:
    """Why a comment looks like bought engagement, or None."""
    if _emoji_only(comment):
        return "emoji_only"
    if SPAM_PATTERNS.search(comment):
        return "spam"
    if _normal(comment) in GENERIC_COMMENTS:
        return "generic"
    return None


def _comment_components(e: Evidence) -> list[Component]:
    if len(e.comments) < MIN_COMMENTS:
        return []
    kinds = Counter(low_quality(c.text) for c in e.comments)
    texts = Counter(_normal(c.text) for c in e.comments if _normal(c.text))
    duplicated = sum(n for t, n in texts.items() if n >= 3 and len(t) <= 12)
    bad = sum(n for k, n in kinds.items() if k is not None)
    share = bad / len(e.comments)
    suspicious = sum(1 for c in e.comments if digit_heavy(c.author))
    author_share = suspicious / len(e.comments)
    return [
        Component(
            "comment_quality",
            share,
            "under 10% generic, emoji-only or spam comments",
            _ramp(share, 0.35, 0.12),
            WEIGHTS["comment_quality"],
            f"{bad} of {len(e.comments)} comments generic ({kinds['generic']}), emoji-only "
            f"({kinds['emoji_only']}) or spam ({kinds['spam']}); {duplicated} are short "
            "repeats",
        ),
        Component(
            "suspicious_commenters",
            author_share,
            "under 10% of commenters with machine-made usernames",
            _ramp(author_share, 0.35, 0.12),
            WEIGHTS["suspicious_commenters"],
            f"{suspicious} of {len(e.comments)} comments by accounts whose username is "
            "mostly digits",
        ),
    ]


def digit_heavy(username: str) -> bool:
    """A username like a bot farm's: at least three digits making a quarter of it."""
    digits = sum(c.isdigit() for c in username)
    return digits >= 3 and digits / max(len(username), 1) >= 0.25


def quality_score(e: Evidence) -> QualityScore:
    """Every signal, and their weighted mean as a score from 0 to 100."""
    found = authenticity(e.follower_sample)
    components = [
        _follower_component(found),
        _engagement_component(e),
        *_ratio_components(e),
        _growth_component(e),
        *_comment_components(e),
    ]
    scored = [c for c in components if c.subscore is not None and c.weight > 0]
    total_weight = sum(c.weight for c in scored)
    if not scored or total_weight <= 0:
        return QualityScore(None, False, components, [], found)
    score = round(
        sum(c.subscore * c.weight for c in scored if c.subscore is not None) / total_weight
    )
    enough_comments = len(e.comments) >= MIN_COMMENTS_FOR_RED_FLAG
    red = [
        c.name
        for c in scored
        if c.subscore is not None
        and c.subscore <= RED_FLAG_AT
        and c.name in RED_FLAG_SIGNALS
        and (c.name != "comment_quality" or enough_comments)
    ]
    return QualityScore(score, score < FLAG_BELOW or bool(red), components, red, found)
