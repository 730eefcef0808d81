"""The sandbox world: reproducible from its seed, shaped as docs/sandbox.md says, and its
fraud leaves the traces vetting must find."""

from __future__ import annotations

import itertools
import statistics
from datetime import date

from pappus.sandbox import world as w

SPEC = w.WorldSpec(seed=5, accounts=20_000, fraud_share=0.12, today=date(2026, 11, 30))


def accounts(spec: w.WorldSpec = SPEC, n: int = 20_000) -> list[w.Account]:
    return [w.account(spec, i) for i in range(n)]


def test_the_same_seed_gives_the_same_world_and_another_seed_another() -> None:
    again = w.WorldSpec(seed=5, accounts=20_000, fraud_share=0.12, today=date(2026, 11, 30))
    other = w.WorldSpec(seed=6, accounts=20_000, fraud_share=0.12, today=date(2026, 11, 30))
    first = w.account(SPEC, 1234)
    assert w.account(again, 1234) == first
    assert w.posts(again, first) == w.posts(SPEC, first)
    assert w.follower_sample(again, first, 50) == w.follower_sample(SPEC, first, 50)
    assert w.account(other, 1234) != first
    # and handles are unique
    assert len({a.handle for a in accounts(n=5_000)}) == 5_000


def test_follower_counts_follow_the_documented_pareto_tail() -> None:
    found = accounts()
    genuine = [a.followers for a in found if not a.fraud]
    for threshold in (10_000, 50_000):
        expected = (w.FOLLOWERS_MIN / threshold) ** w.FOLLOWERS_ALPHA
        share = sum(f > threshold for f in genuine) / len(genuine)
        assert abs(share - expected) < 0.25 * expected + 0.002, (threshold, share, expected)
    assert min(genuine) >= w.FOLLOWERS_MIN


def test_engagement_falls_with_tier_as_documented() -> None:
    by_tier: dict[str, list[float]] = {}
    for a in accounts():
        if not a.fraud:
            by_tier.setdefault(w.tier_of(a.followers), []).append(a.engagement_rate)
    medians = {t: statistics.median(v) for t, v in by_tier.items() if len(v) > 30}
    assert medians["nano"] > medians["koc"] > medians["mid"]
    for tier, median in medians.items():
        assert abs(median - w.TIER_MEDIAN_ENGAGEMENT[tier]) < 0.3 * w.TIER_MEDIAN_ENGAGEMENT[tier]


def test_the_fraud_share_is_the_one_asked_for() -> None:
    found = accounts()
    share = sum(bool(a.fraud) for a in found) / len(found)
    assert abs(share - 0.12) < 0.01
    none = w.WorldSpec(seed=5, accounts=2_000, fraud_share=0.0, today=SPEC.today)
    assert not any(a.fraud for a in accounts(none, 2_000))


def test_bought_followers_show_in_the_follower_sample() -> None:
    found = accounts(n=4_000)
    bought = [a for a in found if "bought_followers" in a.fraud and a.followers >= 2_000][:20]
    genuine = [a for a in found if not a.fraud and a.followers >= 2_000][:20]
    assert bought and genuine

    def fake_share(a: w.Account) -> float:
        sample = w.follower_sample(SPEC, a, 400)
        return sum(f.fake for f in sample) / len(sample)

    assert statistics.mean(fake_share(a) for a in bought) > 0.3
    assert statistics.mean(fake_share(a) for a in genuine) < 0.2
    # and fake followers look like the dataset's fakes: no picture, few posts, many follows
    fakes = [f for a in bought for f in w.follower_sample(SPEC, a, 200) if f.fake]
    reals = [f for a in genuine for f in w.follower_sample(SPEC, a, 200) if not f.fake]
    assert statistics.mean(f.has_profile_pic for f in fakes) < 0.5
    assert statistics.mean(f.has_profile_pic for f in reals) > 0.9
    assert statistics.median(f.following for f in fakes) > statistics.median(
        f.following for f in reals
    )


def test_a_growth_spike_is_a_jump_in_the_follower_history() -> None:
    found = accounts(n=4_000)

    def biggest_jump(a: w.Account) -> float:
        days = w.follower_history(SPEC, a)
        return max(b / a_ - 1 for (_, a_), (_, b) in itertools.pairwise(days) if a_)

    spiked = [a for a in found if "growth_spike" in a.fraud and a.followers > 5_000][:15]
    clean = [a for a in found if not a.fraud and a.followers > 5_000][:15]
    assert all(biggest_jump(a) > 0.2 for a in spiked)
    assert all(biggest_jump(a) < 0.02 for a in clean)
    history = w.follower_history(SPEC, clean[0])
    assert len(history) == w.HISTORY_DAYS and history[-1] == (SPEC.today, clean[0].followers)


def test_bot_engagement_has_likes_without_views_and_empty_comments() -> None:
    found = accounts(n=6_000)
    bots = [a for a in found if "bot_engagement" in a.fraud and a.followers > 3_000][:10]
    clean = [a for a in found if not a.fraud and a.followers > 3_000][:10]

    def ratios(a: w.Account) -> tuple[float, float]:
        posts = [p for p in w.posts(SPEC, a) if p.metrics.likes > 20]
        likes_per_view = statistics.median(p.metrics.likes / max(1, p.metrics.views) for p in posts)
        saves_per_like = statistics.median(p.metrics.saves / p.metrics.likes for p in posts)
        return likes_per_view, saves_per_like

    bot_ratios = [ratios(a) for a in bots]
    clean_ratios = [ratios(a) for a in clean]
    assert statistics.median(r[0] for r in bot_ratios) > 2 * statistics.median(
        r[0] for r in clean_ratios
    )
    assert statistics.median(r[1] for r in bot_ratios) < statistics.median(
        r[1] for r in clean_ratios
    )
    post = max(w.posts(SPEC, bots[0]), key=lambda p: p.metrics.comments)
    comments = w.comments(SPEC, post, 100)
    generic = sum(c.text in w.texts.BOT_COMMENTS for c in comments) / len(comments)
    assert generic > 0.4


def test_posts_metrics_and_comments_are_consistent_and_in_the_past() -> None:
    a = next(x for x in accounts(n=500) if x.followers > 5_000)
    posts = w.posts(SPEC, a)
    assert posts == sorted(posts, key=lambda p: p.published_at, reverse=True)
    for post in posts[:10]:
        assert post.published_at < w.now(SPEC)
        assert w.post(SPEC, post.id) == post
        series = w.metric_series(SPEC, post, 6)
        views = [m.views for m in series]
        assert views == sorted(views)  # totals only grow
        assert series[-1].likes == post.metrics.likes
        for comment in w.comments(SPEC, post, 20):
            assert post.published_at <= comment.created_at <= w.now(SPEC)
    labelled = [p for x in accounts(n=300) for p in w.posts(SPEC, x) if p.partnership_label]
    assert labelled and all(p.sponsored and p.brand for p in labelled)
    assert w.post(SPEC, "sbx_99999999_p0001") is None
    assert w.post(SPEC, "nonsense") is None
