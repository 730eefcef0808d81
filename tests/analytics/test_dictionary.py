"""The metric dictionary: formulas, rounding, zero denominators, aggregation and its docs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pappus.analytics.dictionary import (
    CHANGELOG,
    DICTIONARY_VERSION,
    KPI_METRICS,
    METRICS,
    UNITS,
    MetricDefinition,
    MetricInputs,
    as_json,
    compute,
    definition,
    kpi_value,
    markdown,
)

DOC = Path(__file__).resolve().parents[2] / "docs/metrics.md"

SAMPLE = MetricInputs(
    views=12_000,
    likes=900,
    comments=150,
    saves=300,
    shares=50,
    followers=40_000,
    clicks=480,
    conversions=24,
    revenue_amount=1_234_567,
    spend_amount=500_000,
    follower_growth=700,
    baseline_follower_growth=250,
)


def test_every_metric_of_a_sample_order_matches_the_hand_computed_value() -> None:
    # engagements = 900 + 150 + 300 + 50 = 1400
    assert compute(SAMPLE) == {
        "views": 12_000,
        "likes": 900,
        "comments": 150,
        "saves": 300,
        "shares": 50,
        "engagements": 1400,
        "followers": 40_000,
        "clicks": 480,
        "conversions": 24,
        "spend": 500_000,
        "revenue": 1_234_567,
        "follower_growth_attributable": 450,
        "engagement_rate_by_views": 0.116667,  # 1400 / 12000 = 0.11666..
        "engagement_rate_by_followers": 0.035,  # 1400 / 40000
        "saves_rate": 0.025,  # 300 / 12000
        "ctr": 0.04,  # 480 / 12000
        "conversion_rate": 0.05,  # 24 / 480
        "roas": 2.469134,  # 1234567 / 500000
        "cpm": 41_667,  # 500000 * 1000 / 12000 = 41666.67
        "cpe": 357,  # 500000 / 1400 = 357.14
        "cpc": 1042,  # 500000 / 480 = 1041.67
        "cost_per_conversion": 20_833,  # 500000 / 24 = 20833.33
    }


def test_compute_returns_every_metric_in_dictionary_order() -> None:
    assert list(compute(MetricInputs())) == [m.key for m in METRICS]


def test_money_metrics_are_ints_and_ratios_are_floats() -> None:
    values = compute(SAMPLE)
    for metric in METRICS:
        value = values[metric.key]
        if metric.unit == "ratio":
            assert type(value) is float, metric.key
        else:
            assert type(value) is int, metric.key


def test_zero_denominators_give_none() -> None:
    values = compute(MetricInputs(likes=5, clicks=3, conversions=2, spend_amount=100))
    for key in ("engagement_rate_by_views", "saves_rate", "ctr", "cpm"):
        assert values[key] is None, key
    assert values["engagement_rate_by_followers"] is None
    assert values["roas"] == 0.0  # revenue 0 over spend 100 is a real zero
    assert values["cpe"] == 20
    assert compute(MetricInputs())["roas"] is None
    empty = compute(MetricInputs())
    for key in ("conversion_rate", "cpe", "cpc", "cost_per_conversion"):
        assert empty[key] is None, key


def test_counts_of_an_empty_input_are_zero() -> None:
    values = compute(MetricInputs())
    for metric in METRICS:
        if metric.unit == "count":
            assert values[metric.key] == 0, metric.key
    assert values["spend"] == 0
    assert values["revenue"] == 0


def test_money_per_unit_rounds_half_up_with_integers() -> None:
    assert compute(MetricInputs(spend_amount=5, likes=2))["cpe"] == 3  # 2.5
    assert compute(MetricInputs(spend_amount=7, likes=2))["cpe"] == 4  # 3.5
    assert compute(MetricInputs(spend_amount=7, likes=3))["cpe"] == 2  # 2.33
    assert compute(MetricInputs(spend_amount=8, likes=3))["cpe"] == 3  # 2.67
    assert compute(MetricInputs(spend_amount=1, views=3))["cpm"] == 333  # 333.33
    assert compute(MetricInputs(spend_amount=1, views=2000))["cpm"] == 1  # 0.5
    assert compute(MetricInputs(spend_amount=1, views=2001))["cpm"] == 0  # 0.49975
    assert compute(MetricInputs(spend_amount=1, clicks=2))["cpc"] == 1  # 0.5
    assert compute(MetricInputs(spend_amount=3, conversions=2))["cost_per_conversion"] == 2


def test_money_stays_exact_beyond_float_precision() -> None:
    # 2**53 + 1 is not a float; a float division would lose the last unit.
    spend = 2**53 + 1
    assert compute(MetricInputs(spend_amount=spend, clicks=1))["cpc"] == 9_007_199_254_740_993
    assert compute(MetricInputs(spend_amount=2 * spend, clicks=2))["cpc"] == 9_007_199_254_740_993


def test_ratios_round_half_up_to_six_decimals() -> None:
    # 1 / 2 000 000 = 0.0000005: half up gives 0.000001 (half even would give 0.0).
    assert compute(MetricInputs(likes=1, views=2_000_000))["engagement_rate_by_views"] == 0.000001
    # 5 / 2 000 000 = 0.0000025: half up gives 0.000003 (half even would give 0.000002).
    assert compute(MetricInputs(saves=5, views=2_000_000))["saves_rate"] == 0.000003
    assert compute(MetricInputs(clicks=1, views=3))["ctr"] == 0.333333
    assert compute(MetricInputs(clicks=2, views=3))["ctr"] == 0.666667
    assert compute(MetricInputs(clicks=1, views=2_000_001))["ctr"] == 0.0
    assert compute(MetricInputs(revenue_amount=1, spend_amount=7))["roas"] == 0.142857


def test_ratios_above_one_are_allowed() -> None:
    values = compute(MetricInputs(likes=300, followers=100, conversions=5, clicks=2))
    assert values["engagement_rate_by_followers"] == 3.0
    assert values["conversion_rate"] == 2.5


def test_attributable_follower_growth_may_be_negative() -> None:
    inputs = MetricInputs(follower_growth=-20, baseline_follower_growth=100)
    assert compute(inputs)["follower_growth_attributable"] == -120
    assert "negative" in definition("follower_growth_attributable").description


def test_inputs_add_up_field_by_field() -> None:
    a = MetricInputs(views=1, likes=2, comments=3, saves=4, shares=5, followers=6, clicks=7)
    b = MetricInputs(
        views=10,
        conversions=8,
        revenue_amount=9,
        spend_amount=11,
        follower_growth=-12,
        baseline_follower_growth=13,
    )
    assert a + b == MetricInputs(
        views=11,
        likes=2,
        comments=3,
        saves=4,
        shares=5,
        followers=6,
        clicks=7,
        conversions=8,
        revenue_amount=9,
        spend_amount=11,
        follower_growth=-12,
        baseline_follower_growth=13,
    )
    assert sum([a, b, a], MetricInputs()) == a + a + b


def test_campaign_ratios_come_from_summed_inputs_not_averaged_ratios() -> None:
    small = MetricInputs(views=1000, likes=100)
    large = MetricInputs(views=9000, likes=90)
    assert compute(small)["engagement_rate_by_views"] == 0.1
    assert compute(large)["engagement_rate_by_views"] == 0.01
    assert compute(small + large)["engagement_rate_by_views"] == 0.019  # not 0.055


def test_adding_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = MetricInputs() + 1


def test_inputs_refuse_negative_counts_and_non_integers() -> None:
    with pytest.raises(ValueError, match="views"):
        MetricInputs(views=-1)
    with pytest.raises(ValueError, match="spend_amount"):
        MetricInputs(spend_amount=-5)
    with pytest.raises(TypeError, match="spend_amount"):
        MetricInputs(spend_amount=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="likes"):
        MetricInputs(likes=True)


def test_kpi_value_of_each_kpi_metric() -> None:
    expected = {
        "views": 12_000,
        "likes": 900,
        "comments": 150,
        "saves": 300,
        "shares": 50,
        "engagements": 1400,
        "clicks": 480,
        "conversions": 24,
    }
    assert {key: kpi_value(key, SAMPLE) for key in KPI_METRICS} == expected


@pytest.mark.parametrize("metric", ["ctr", "cpm", "spend", "followers", "roas", "nonsense"])
def test_kpi_value_refuses_other_metrics(metric: str) -> None:
    with pytest.raises(ValueError, match=metric):
        kpi_value(metric, SAMPLE)


def test_only_the_counts_of_the_issue_are_kpis() -> None:
    assert {m.key for m in METRICS if m.kpi} == set(KPI_METRICS)
    assert set(KPI_METRICS) == {
        "views",
        "likes",
        "comments",
        "saves",
        "shares",
        "engagements",
        "clicks",
        "conversions",
    }


def test_definition_finds_a_metric_and_names_the_known_ones_otherwise() -> None:
    cpm = definition("cpm")
    assert cpm.formula == "spend_amount * 1000 / views"
    assert cpm.unit == "minor_units_per_1000_views"
    with pytest.raises(KeyError, match=r"unknown metric 'reach'.*engagement_rate_by_views"):
        definition("reach")


def test_the_two_engagement_rates_are_named_distinctly() -> None:
    by_views = definition("engagement_rate_by_views")
    by_followers = definition("engagement_rate_by_followers")
    assert by_views.name == "Engagement rate (by views)"
    assert by_followers.name == "Engagement rate (by followers)"
    assert by_views.formula == "engagements / views"
    assert by_followers.formula == "engagements / followers"


def test_metric_keys_and_names_are_unique_and_complete() -> None:
    keys = [m.key for m in METRICS]
    assert len(keys) == len(set(keys))
    assert len({m.name for m in METRICS}) == len(METRICS)
    assert set(keys) >= {
        "views",
        "likes",
        "comments",
        "saves",
        "shares",
        "engagements",
        "engagement_rate_by_views",
        "engagement_rate_by_followers",
        "saves_rate",
        "cpm",
        "cpe",
        "cpc",
        "ctr",
        "conversion_rate",
        "revenue",
        "roas",
        "cost_per_conversion",
        "spend",
        "clicks",
        "conversions",
        "follower_growth_attributable",
        "followers",
    }


def test_every_definition_is_filled_in_with_a_known_unit() -> None:
    assert set(UNITS) == {"count", "ratio", "minor_units", "minor_units_per_1000_views"}
    for metric in METRICS:
        assert metric.unit in UNITS, metric.key
        for field in dataclasses.fields(MetricDefinition):
            value = getattr(metric, field.name)
            if isinstance(value, str):
                assert value.strip(), (metric.key, field.name)


def test_sources_state_where_the_inputs_come_from() -> None:
    assert "latest metric snapshot" in definition("views").source
    assert "at publication" in definition("followers").source
    clicks = definition("clicks").source
    assert "GET /r/{code}" in clicks
    assert "30 minutes" in clicks
    assert "no tracking link" in clicks
    conversions = definition("conversions").source
    assert "POST /api/v1/conversions" in conversions
    assert "coupon code first" in conversions
    assert "7 days" in conversions
    assert "refunds" in definition("revenue").source
    assert "committed spend" in definition("spend").source


def test_as_json_lists_every_metric_once_with_the_version() -> None:
    data = as_json()
    assert data["version"] == DICTIONARY_VERSION
    assert set(data["units"]) == set(UNITS)
    assert [m["key"] for m in data["metrics"]] == [m.key for m in METRICS]
    assert data["metrics"][0] == {
        "key": "views",
        "name": "Views",
        "formula": "views",
        "unit": "count",
        "source": definition("views").source,
        "description": "Times the post was viewed.",
        "kpi": True,
    }


def test_the_version_is_major_minor_and_heads_the_changelog() -> None:
    major, minor = DICTIONARY_VERSION.split(".")
    assert major.isdigit() and minor.isdigit()
    assert CHANGELOG[0][0] == DICTIONARY_VERSION


def test_docs_metrics_md_is_the_generated_markdown() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/metrics.md is stale: regenerate it with "
        "python -c 'from pappus.analytics.dictionary import markdown; "
        'print(markdown(), end="")\' > docs/metrics.md'
    )


def test_markdown_covers_version_units_rounding_aggregation_and_changelog() -> None:
    text = markdown()
    assert text.startswith("# Metric dictionary\n")
    assert f"Version **{DICTIONARY_VERSION}**" in text
    for heading in ("## Units", "## Rounding", "## Aggregation", "## Changelog"):
        assert f"\n{heading}\n" in text
    for metric in METRICS:
        assert f"### {metric.name} (`{metric.key}`)" in text
    assert "half up" in text


COUNTS = st.integers(min_value=0, max_value=10**12)

INPUTS = st.builds(
    MetricInputs,
    views=COUNTS,
    likes=COUNTS,
    comments=COUNTS,
    saves=COUNTS,
    shares=COUNTS,
    followers=COUNTS,
    clicks=COUNTS,
    conversions=COUNTS,
    revenue_amount=COUNTS,
    spend_amount=COUNTS,
    follower_growth=st.integers(min_value=-(10**9), max_value=10**9),
    baseline_follower_growth=st.integers(min_value=-(10**9), max_value=10**9),
)


@settings(max_examples=200, deadline=None)
@given(INPUTS)
def test_compute_never_raises_nor_returns_nan_or_infinity(inputs: MetricInputs) -> None:
    for key, value in compute(inputs).items():
        if value is None:
            continue
        assert math.isfinite(value), key
        if key != "follower_growth_attributable":
            assert value >= 0, key


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            MetricInputs,
            views=st.integers(min_value=1, max_value=10**9),
            likes=COUNTS,
            comments=COUNTS,
            saves=COUNTS,
            shares=COUNTS,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_summed_engagement_rate_lies_between_the_parts(parts: list[MetricInputs]) -> None:
    rates = []
    for part in parts:
        rate = compute(part)["engagement_rate_by_views"]
        assert isinstance(rate, float)
        rates.append(rate)
    total = compute(sum(parts, MetricInputs()))["engagement_rate_by_views"]
    assert isinstance(total, float)
    assert min(rates) <= total <= max(rates)
