"""The sandbox social platform's world: accounts, audiences, followers, posts, metrics and
comments, generated from a seed.

Every account is generated on demand from (seed, index) alone, so a world of a million
accounts costs no memory until it is read, two processes with the same seed serve the same
world, and a test can ask for account 123,456 without generating the ones before it. The
figures behind each distribution, and where they come from, are in docs/sandbox.md.

Dates are relative to the world's `today`, so the same seed and day give the same world.
"""

from __future__ import annotations

import hashlib
import math
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from pappus.creators.taxonomy import tier_for
from pappus.sandbox import texts

# -- the shape of the world (see docs/sandbox.md for the sources) --------------------------

# Follower counts: a Pareto tail above FOLLOWERS_MIN with this exponent of the
# complementary CDF, P(followers > x) = (FOLLOWERS_MIN / x) ** FOLLOWERS_ALPHA.
FOLLOWERS_MIN = 900
FOLLOWERS_ALPHA = 1.2
FOLLOWERS_MAX = 30_000_000

# Median engagement rate per post (likes + saves + comments + shares over followers) by tier,
# and the log-normal spread around it.
TIER_MEDIAN_ENGAGEMENT = {"under": 0.055, "nano": 0.042, "koc": 0.028, "mid": 0.019, "head": 0.012}
ENGAGEMENT_SIGMA = 0.45
CATEGORY_ENGAGEMENT = {
    "beauty": 1.10,
    "skincare": 1.10,
    "fashion": 1.05,
    "food": 1.15,
    "travel": 0.95,
    "fitness": 1.05,
    "parenting": 1.10,
    "home": 1.00,
    "tech": 0.80,
    "gaming": 0.90,
    "pets": 1.25,
    "education": 0.85,
    "finance": 0.75,
    "automotive": 0.80,
    "health": 0.95,
    "lifestyle": 1.00,
}
CATEGORIES = tuple(CATEGORY_ENGAGEMENT)
# How an engagement splits (Xiaohongshu-like: saves matter).
ENGAGEMENT_SPLIT = {"likes": 0.66, "saves": 0.22, "comments": 0.08, "shares": 0.04}
# Female share of the audience by category (the rest male).
CATEGORY_FEMALE_SHARE = {
    "beauty": 0.88,
    "skincare": 0.86,
    "fashion": 0.80,
    "food": 0.68,
    "travel": 0.64,
    "fitness": 0.58,
    "parenting": 0.90,
    "home": 0.72,
    "tech": 0.28,
    "gaming": 0.30,
    "pets": 0.74,
    "education": 0.62,
    "finance": 0.40,
    "automotive": 0.22,
    "health": 0.66,
    "lifestyle": 0.72,
}
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45+")
AGE_BASE = (0.06, 0.36, 0.38, 0.14, 0.06)
ZH_REGIONS = (
    "CN-SH", "CN-BJ", "CN-GD", "CN-ZJ", "CN-JS", "CN-SC", "CN-HB", "CN-FJ", "CN-SD", "CN-HN",
)  # fmt: skip
EN_REGIONS = ("US", "GB", "SG", "MY", "AU", "CA", "HK", "TW")
PLATFORM = "sandbox"
FRAUD_KINDS = ("bought_followers", "bot_engagement", "growth_spike")
HISTORY_DAYS = 90


@dataclass(frozen=True)
class WorldSpec:
    """What makes a world: the seed, its size, the share of fraudulent creators, its day."""

    seed: int = 2026
    accounts: int = 5_000
    fraud_share: float = 0.12
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    def __post_init__(self) -> None:
        if self.accounts < 1:
            raise ValueError("a world needs at least one account")
        if not 0.0 <= self.fraud_share <= 1.0:
            raise ValueError("fraud_share is a share between 0 and 1")


@dataclass(frozen=True)
class Audience:
    female_share: float
    age_bands: dict[str, float]
    top_regions: dict[str, float]
    interests: dict[str, float]


@dataclass(frozen=True)
class Follower:
    username: str
    followers: int
    following: int
    posts: int
    has_profile_pic: bool
    is_private: bool
    bio_length: int
    full_name: str | None
    has_external_url: bool
    fake: bool  # ground truth, only served to staff


@dataclass(frozen=True)
class Comment:
    id: str
    author: str
    text: str
    created_at: datetime
    suspicious_author: bool  # ground truth, only served to staff


@dataclass(frozen=True)
class MetricPoint:
    at: datetime
    views: int
    likes: int
    saves: int
    comments: int
    shares: int


@dataclass(frozen=True)
class Post:
    id: str
    account_id: str
    title: str
    text: str
    hashtags: tuple[str, ...]
    format: str
    published_at: datetime
    sponsored: bool
    partnership_label: bool  # the platform's brand-partnership disclosure label
    brand: str | None
    metrics: MetricPoint  # as of the world's today


@dataclass(frozen=True)
class Account:
    id: str
    index: int
    handle: str
    display_name: str
    bio: str
    language: str
    category: str
    secondary_category: str | None
    region: str
    followers: int
    following: int
    posts_count: int
    engagement_rate: float
    has_external_url: bool
    created_at: datetime
    fraud: tuple[str, ...]  # empty for genuine creators; served to staff only
    real_follower_share: float


def _rng(spec: WorldSpec, *parts: object) -> random.Random:
    key = ":".join(str(p) for p in (spec.seed, *parts))
    return random.Random(hashlib.sha256(key.encode()).digest())


def tier_of(followers: int) -> str:
    """Pappus's tiers (the sandbox's accounts are what Pappus will list), or "under"."""
    return tier_for(followers) or "under"


def account_id(index: int) -> str:
    return f"sbx_{index:08d}"


def index_of(account_id_: str) -> int | None:
    if not account_id_.startswith("sbx_") or not account_id_[4:].isdigit():
        return None
    return int(account_id_[4:])


def _pareto_followers(rng: random.Random) -> int:
    u = rng.random()
    value = FOLLOWERS_MIN * (1.0 - u) ** (-1.0 / FOLLOWERS_ALPHA)
    return int(min(value, FOLLOWERS_MAX))


def _is_fraud(spec: WorldSpec, index: int) -> tuple[str, ...]:
    rng = _rng(spec, "fraud", index)
    if rng.random() >= spec.fraud_share:
        return ()
    # Most fraud combines schemes: bought followers usually come with a spike.
    first = rng.choice(FRAUD_KINDS)
    kinds = {first}
    for kind in FRAUD_KINDS:
        if kind != first and rng.random() < 0.35:
            kinds.add(kind)
    return tuple(k for k in FRAUD_KINDS if k in kinds)


def account(spec: WorldSpec, index: int) -> Account:
    """Account `index` of the world (0 <= index < spec.accounts)."""
    if not 0 <= index < spec.accounts:
        raise KeyError(index)
    return _account(spec, index)


@lru_cache(maxsize=4096)
def _account(spec: WorldSpec, index: int) -> Account:
    rng = _rng(spec, "account", index)
    language = "zh" if rng.random() < 0.72 else "en"
    category = rng.choice(CATEGORIES)
    secondary = rng.choice(CATEGORIES) if rng.random() < 0.45 else None
    if secondary == category:
        secondary = None
    fraud = _is_fraud(spec, index)
    followers = _pareto_followers(rng)
    real_share = min(0.99, max(0.80, rng.gauss(0.92, 0.04)))
    if "bought_followers" in fraud:
        # Bought followers pad the count: the real audience is what it was before.
        real_share = rng.uniform(0.30, 0.70)
        followers = int(followers / real_share)
    tier = tier_of(followers)
    median = TIER_MEDIAN_ENGAGEMENT[tier] * CATEGORY_ENGAGEMENT[category]
    engagement = median * math.exp(rng.gauss(0.0, ENGAGEMENT_SIGMA))
    if "bought_followers" in fraud and "bot_engagement" not in fraud:
        engagement *= real_share  # the fake followers never engage
    if "bot_engagement" in fraud:
        engagement *= rng.uniform(1.8, 3.5)
    handle, display = texts.name(rng, language, index)
    region = rng.choice(ZH_REGIONS if language == "zh" else EN_REGIONS)
    age_days = rng.randint(200, 3000)
    return Account(
        id=account_id(index),
        index=index,
        handle=handle,
        display_name=display,
        bio=texts.bio(rng, language, category),
        language=language,
        category=category,
        secondary_category=secondary,
        region=region,
        followers=followers,
        following=max(5, int(rng.lognormvariate(math.log(350), 0.8))),
        posts_count=rng.randint(40, 900),
        engagement_rate=round(min(engagement, 0.6), 5),
        has_external_url=rng.random() < 0.3,
        created_at=_at(spec, -age_days, rng.randint(0, 86_399)),
        fraud=fraud,
        real_follower_share=round(real_share, 4),
    )


def now(spec: WorldSpec) -> datetime:
    """The world's present: its day at 00:00 UTC."""
    return _at(spec, 0)


def _at(spec: WorldSpec, day_offset: int, second: int = 0) -> datetime:
    start = datetime(spec.today.year, spec.today.month, spec.today.day, tzinfo=UTC)
    return start + timedelta(days=day_offset, seconds=second)


def audience(spec: WorldSpec, acc: Account) -> Audience:
    rng = _rng(spec, "audience", acc.index)
    female = min(0.97, max(0.05, rng.gauss(CATEGORY_FEMALE_SHARE[acc.category], 0.06)))
    weights = [max(0.005, w * rng.uniform(0.6, 1.4)) for w in AGE_BASE]
    ages = _normalise(dict(zip(AGE_BANDS, weights, strict=True)))
    pool = ZH_REGIONS if acc.language == "zh" else EN_REGIONS
    others = [r for r in pool if r != acc.region]
    rng.shuffle(others)
    region_weights = {acc.region: rng.uniform(0.25, 0.45)}
    for region in others[:4]:
        region_weights[region] = rng.uniform(0.04, 0.15)
    interests = {acc.category: rng.uniform(0.35, 0.6)}
    for cat in rng.sample(CATEGORIES, 4):
        interests.setdefault(cat, rng.uniform(0.05, 0.25))
    return Audience(
        female_share=round(female, 4),
        age_bands=ages,
        top_regions=_normalise(region_weights, keep=0.9),
        interests={k: round(v, 4) for k, v in interests.items()},
    )


def _normalise(weights: dict[str, float], keep: float = 1.0) -> dict[str, float]:
    total = sum(weights.values())
    return {k: round(keep * v / total, 4) for k, v in weights.items()}


def follower_history(spec: WorldSpec, acc: Account) -> list[tuple[date, int]]:
    """Daily follower counts for the last HISTORY_DAYS days, ending at today's count. A
    growth spike (bought followers arriving) is a jump within one or two days."""
    rng = _rng(spec, "history", acc.index)
    daily_growth = rng.uniform(0.0005, 0.004)
    counts = [float(acc.followers)]
    spike_day = rng.randint(10, HISTORY_DAYS - 10) if "growth_spike" in acc.fraud else None
    for day in range(HISTORY_DAYS - 1, 0, -1):  # walk back from today
        current = counts[-1]
        change = current * daily_growth * rng.uniform(0.2, 1.8)
        if spike_day is not None and day == spike_day:
            change = current * rng.uniform(0.25, 0.6)
        counts.append(max(0.0, current - change))
    counts.reverse()
    return [
        (spec.today - timedelta(days=HISTORY_DAYS - 1 - i), int(c)) for i, c in enumerate(counts)
    ]


def follower_sample(spec: WorldSpec, acc: Account, size: int) -> list[Follower]:
    """`size` followers drawn at random; the fake ones look like the fake accounts of the
    public Instagram fake-account dataset (no picture, digits in the name, few posts,
    following many), the real ones like its genuine accounts."""
    size = max(0, min(size, acc.followers, 2_000))
    rng = _rng(spec, "followers", acc.index)
    return [_follower(rng, rng.random() >= acc.real_follower_share, n) for n in range(size)]


def _follower(rng: random.Random, fake: bool, n: int) -> Follower:
    if fake:
        digits = "".join(rng.choices(string.digits, k=rng.randint(3, 8)))
        username = f"{rng.choice(texts.LATIN_SYLLABLES)}{rng.choice(texts.LATIN_SYLLABLES)}{digits}"
        has_name = rng.random() < 0.35
        return Follower(
            username=username,
            followers=int(rng.lognormvariate(math.log(25), 1.0)),
            following=int(rng.lognormvariate(math.log(1500), 0.7)),
            posts=int(rng.lognormvariate(math.log(2), 1.0)) if rng.random() < 0.6 else 0,
            has_profile_pic=rng.random() < 0.3,
            is_private=rng.random() < 0.25,
            bio_length=0 if rng.random() < 0.8 else rng.randint(1, 30),
            full_name=username if has_name and rng.random() < 0.5 else None,
            has_external_url=False,
            fake=True,
        )
    first, last = rng.choice(texts.LATIN_SYLLABLES), rng.choice(texts.LATIN_SYLLABLES)
    suffix = str(rng.randint(1, 99)) if rng.random() < 0.25 else ""
    username = f"{first}{rng.choice(['', '.', '_'])}{last}{suffix}"
    return Follower(
        username=username,
        followers=int(rng.lognormvariate(math.log(400), 1.2)),
        following=int(rng.lognormvariate(math.log(350), 0.8)),
        posts=int(rng.lognormvariate(math.log(60), 1.0)),
        has_profile_pic=rng.random() < 0.97,
        is_private=rng.random() < 0.35,
        bio_length=rng.randint(0, 150) if rng.random() < 0.7 else 0,
        full_name=f"{first.title()} {last.title()}",
        has_external_url=rng.random() < 0.12,
        fake=False,
    )


def posts(spec: WorldSpec, acc: Account) -> list[Post]:
    """The account's posts of the last HISTORY_DAYS days, newest first."""
    rng = _rng(spec, "posts", acc.index)
    per_week = rng.uniform(1.0, 5.0)
    count = max(1, int(per_week * HISTORY_DAYS / 7))
    found = []
    for n in range(count):
        day = -rng.randint(1, HISTORY_DAYS)  # the world's now is today at 00:00 UTC
        published = _at(spec, day, rng.randint(7 * 3600, 23 * 3600))
        found.append(_post(spec, acc, n, published))
    found.sort(key=lambda p: p.published_at, reverse=True)
    return found


def post_id(acc: Account, n: int) -> str:
    return f"{acc.id}_p{n:04d}"


def parse_post_id(value: str) -> tuple[int, int] | None:
    head, _, tail = value.rpartition("_p")
    index = index_of(head)
    if index is None or not tail.isdigit():
        return None
    return index, int(tail)


def _post(spec: WorldSpec, acc: Account, n: int, published: datetime) -> Post:
    rng = _rng(spec, "post", acc.index, n)
    sponsored = rng.random() < 0.18
    labelled = sponsored and rng.random() < 0.8
    brand = rng.choice(texts.BRANDS) if sponsored else None
    title, text, tags = texts.post(rng, acc.language, acc.category, brand, labelled)
    age_days = max(0.0, (_at(spec, 0) - published).total_seconds() / 86_400)
    return Post(
        id=post_id(acc, n),
        account_id=acc.id,
        title=title,
        text=text,
        hashtags=tags,
        format=rng.choice(("image_post", "image_post", "short_video", "long_video")),
        published_at=published,
        sponsored=sponsored,
        partnership_label=labelled,
        brand=brand,
        metrics=_metrics_at(spec, acc, n, age_days),
    )


def _metrics_at(spec: WorldSpec, acc: Account, n: int, age_days: float) -> MetricPoint:
    """A post's totals `age_days` after publication: most engagement arrives in the first
    days (saturating growth with a time constant of about 1.5 days)."""
    rng = _rng(spec, "metrics", acc.index, n)
    final_engagements = acc.followers * acc.engagement_rate * rng.lognormvariate(0.0, 0.5)
    view_ratio = rng.lognormvariate(math.log(1.6), 0.5)
    if "bot_engagement" in acc.fraud:
        view_ratio *= 0.35  # likes bought without the views that would come with them
    done = 1.0 - math.exp(-age_days / 1.5) if age_days > 0 else 0.0
    engagements = final_engagements * done
    split = dict(ENGAGEMENT_SPLIT)
    if "bot_engagement" in acc.fraud:
        split = {"likes": 0.88, "saves": 0.06, "comments": 0.04, "shares": 0.02}
    return MetricPoint(
        at=_at(spec, 0),
        views=int(acc.followers * view_ratio * done),
        likes=int(engagements * split["likes"]),
        saves=int(engagements * split["saves"]),
        comments=int(engagements * split["comments"]),
        shares=int(engagements * split["shares"]),
    )


def post(spec: WorldSpec, value: str) -> Post | None:
    parsed = parse_post_id(value)
    if parsed is None or not 0 <= parsed[0] < spec.accounts:
        return None
    acc = account(spec, parsed[0])
    for candidate in posts(spec, acc):
        if candidate.id == value:
            return candidate
    return None


LIVE_POST_SEED_OFFSET = 100_000  # live posts draw their metrics apart from generated ones


def live_post_id(acc: Account, k: int) -> str:
    return f"{acc.id}_l{k:04d}"


def live_metrics(
    spec: WorldSpec, acc: Account, k: int, published_at: datetime, at: datetime
) -> MetricPoint:
    """A post published through the creator app, `at` a moment of the platform's clock: the
    same saturating growth as the generated posts, from its real publication time."""
    age = max(0.0, (at - published_at).total_seconds() / 86_400)
    point = _metrics_at(spec, acc, LIVE_POST_SEED_OFFSET + k, age)
    return MetricPoint(at, point.views, point.likes, point.saves, point.comments, point.shares)


def live_metric_series(
    spec: WorldSpec, acc: Account, k: int, published_at: datetime, at: datetime, points: int = 8
) -> list[MetricPoint]:
    span = max(timedelta(0), at - published_at)
    return [
        live_metrics(spec, acc, k, published_at, published_at + span * step / points)
        for step in range(1, points + 1)
    ]


def metric_series(spec: WorldSpec, found: Post, points: int = 8) -> list[MetricPoint]:
    """The post's totals at several moments from publication to today."""
    acc = account(spec, index_of(found.account_id) or 0)
    n = int(found.id.rpartition("_p")[2])
    age = max(0.0, (_at(spec, 0) - found.published_at).total_seconds() / 86_400)
    series = []
    for step in range(1, points + 1):
        moment = age * step / points
        point = _metrics_at(spec, acc, n, moment)
        at = found.published_at + timedelta(days=moment)
        series.append(
            MetricPoint(at, point.views, point.likes, point.saves, point.comments, point.shares)
        )
    return series


def comments(spec: WorldSpec, found: Post, limit: int = 50) -> list[Comment]:
    acc = account(spec, index_of(found.account_id) or 0)
    rng = _rng(spec, "comments", found.id)
    count = min(limit, found.metrics.comments, 200)
    bot_share = 0.6 if "bot_engagement" in acc.fraud else 0.05
    result = []
    for n in range(count):
        bot = rng.random() < bot_share
        text = texts.comment(rng, acc.language, acc.category, bot)
        author = _follower(rng, bot, n).username
        at = min(now(spec), found.published_at + timedelta(minutes=rng.randint(1, 60 * 72)))
        result.append(Comment(f"{found.id}_c{n:03d}", author, text, at, bot))
    return result
