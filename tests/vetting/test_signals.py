# ruff: noqa: RUF001  (Chinese comments use full-width punctuation on purpose)
"""The audience-quality score's signals, and its separation of the sandbox's labelled frauds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pappus.sandbox import world as w
from pappus.vetting.sandbox_eval import score_world, separation
from pappus.vetting.signals import growth_spikes, low_quality, wilson


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = wilson(80, 100)
    assert (round(low, 3), round(high, 3)) == (0.711, 0.867)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(10, 10)[1] == 1.0


def test_a_jump_in_followers_is_a_spike_and_steady_growth_is_not() -> None:
    start = date(2026, 9, 1)
    steady = [(start + timedelta(days=d), 10_000 + 30 * d + (d % 3) * 5) for d in range(60)]
    assert growth_spikes(steady) == []
    bought = [(day, n + (8_000 if day >= start + timedelta(days=40) else 0)) for day, n in steady]
    spikes = growth_spikes(bought)
    assert [s[0] for s in spikes] == [start + timedelta(days=40)]
    assert growth_spikes(steady[:5]) == []  # too little history to judge


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("👍👍👍", "emoji_only"),
        ("❤️ ❤️!", "emoji_only"),
        ("Nice post!", "generic"),
        ("不错不错", "generic"),
        ("Check my profile for free followers", "spam"),
        ("关注我互粉", "spam"),
        ("请问适合油皮吗？", None),
        ("Does it work for oily skin?", None),
        ("Love how the texture looks in the second photo", None),
    ],
)
def test_comment_quality_tells_bot_comments_from_real_ones(text: str, kind: str | None) -> None:
    assert low_quality(text) == kind


def test_the_score_separates_the_sandboxs_frauds() -> None:
    spec = w.WorldSpec(seed=31, accounts=400, fraud_share=0.15, today=date(2026, 11, 30))
    found = score_world(spec)
    result = separation(found)
    assert result["fraudulent"] >= 30
    assert result["precision"] >= 0.9 and result["recall"] >= 0.9, result
    flagged = next(f for f in found if f.result.flagged)
    assert flagged.result.red_flags or (flagged.result.score or 100) < 60
    for component in flagged.result.components:
        assert component.benchmark and component.detail
