"""Property tests of the escrow arithmetic: rounding, conservation and KPI bonuses."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from pappus.kit.money import BASIS_POINTS, apply_rate
from pappus.orders.settlement import (
    KPI_METRICS,
    Terms,
    escrow_breakdown,
    evaluate_kpis,
    kpi_bonus,
    metric_value,
    split_escrow,
)

MAX_PRICE = 10**11
amounts = st.integers(0, MAX_PRICE)
rates = st.integers(0, BASIS_POINTS)
# Amounts that end in ...5000 basis-point remainders exercise the half-up tie.
edge_amounts = st.one_of(amounts, st.sampled_from([0, 1, 2, 5, 9_999, 10_000, 10_001, MAX_PRICE]))


@st.composite
def terms(draw: st.DrawFn) -> Terms:
    return Terms(
        price_amount=draw(edge_amounts),
        bonus_cap_amount=draw(st.one_of(st.just(0), amounts)),
        brand_fee_bp=draw(rates),
        creator_commission_bp=draw(rates),
    )


@st.composite
def settlements(draw: st.DrawFn) -> tuple[Terms, int, int]:
    """Terms, a creator share of the price and an earned bonus within the cap."""
    fees = draw(terms())
    share = draw(st.one_of(rates, st.sampled_from([0, 3000, 5000, BASIS_POINTS])))
    bonus = draw(st.one_of(st.integers(0, fees.bonus_cap_amount), st.just(fees.bonus_cap_amount)))
    return fees, share, bonus


def half_up(amount: int, rate_bp: int) -> int:
    exact = Decimal(amount) * Decimal(rate_bp) / Decimal(BASIS_POINTS)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- apply_rate -----------------------------------------------------------------------------


@settings(max_examples=1000)
@given(amount=edge_amounts, rate=rates)
@example(amount=1, rate=5000)  # exactly one half: rounds up
@example(amount=1, rate=4999)
@example(amount=3, rate=1667)  # 0.5001
@example(amount=5, rate=1000)  # 0.5
def test_apply_rate_rounds_half_up(amount: int, rate: int) -> None:
    result = apply_rate(amount, rate)
    assert result == half_up(amount, rate)
    # within half a unit of the exact product, and ties go up
    twice_error = 2 * result * BASIS_POINTS - 2 * amount * rate
    assert -BASIS_POINTS < twice_error <= BASIS_POINTS


@settings(max_examples=500)
@given(amount=edge_amounts, more=amounts, rate=rates, more_rate=rates)
def test_apply_rate_is_monotonic_and_bounded(
    amount: int, more: int, rate: int, more_rate: int
) -> None:
    assert apply_rate(amount, rate) <= apply_rate(amount + more, rate)
    assert apply_rate(amount, min(rate, more_rate)) <= apply_rate(amount, max(rate, more_rate))
    assert 0 <= apply_rate(amount, rate) <= amount
    assert apply_rate(amount, 0) == 0
    assert apply_rate(amount, BASIS_POINTS) == amount
    # one more unit of amount moves the result by at most one unit
    assert apply_rate(amount + 1, rate) - apply_rate(amount, rate) in (0, 1)


@given(amount=st.integers(max_value=-1), rate=rates)
def test_apply_rate_refuses_negative_amounts(amount: int, rate: int) -> None:
    with pytest.raises(ValueError):
        apply_rate(amount, rate)


@given(amount=amounts, rate=st.integers(max_value=-1))
def test_apply_rate_refuses_negative_rates(amount: int, rate: int) -> None:
    with pytest.raises(ValueError):
        apply_rate(amount, rate)


# -- escrow_breakdown -----------------------------------------------------------------------


@settings(max_examples=500)
@given(fees=terms())
def test_escrow_breakdown_is_itemised_consistently(fees: Terms) -> None:
    breakdown = escrow_breakdown(fees)
    covered = fees.price_amount + fees.bonus_cap_amount
    assert breakdown.brand_fee_amount == apply_rate(covered, fees.brand_fee_bp)
    assert breakdown.escrow_amount == covered + breakdown.brand_fee_amount
    assert breakdown.creator_commission_amount == apply_rate(
        fees.price_amount, fees.creator_commission_bp
    )
    assert breakdown.creator_net_amount + breakdown.creator_commission_amount == fees.price_amount
    assert breakdown.creator_net_amount >= 0


@settings(max_examples=500)
@given(fees=terms())
def test_the_fees_shown_before_agreement_are_the_fees_charged_on_full_release(
    fees: Terms,
) -> None:
    shown = escrow_breakdown(fees)
    price_only = split_escrow(fees, price_share_bp=BASIS_POINTS, bonus_amount=0, reason="release")
    assert price_only.to_creator == shown.creator_net_amount
    assert price_only.creator_commission_amount == shown.creator_commission_amount
    everything = split_escrow(
        fees, price_share_bp=BASIS_POINTS, bonus_amount=fees.bonus_cap_amount, reason="release"
    )
    assert everything.brand_fee_amount == shown.brand_fee_amount
    assert everything.to_brand == 0


# -- split_escrow ---------------------------------------------------------------------------


@settings(max_examples=1000)
@given(case=settlements())
def test_split_conserves_the_escrow_and_no_leg_is_negative(case: tuple[Terms, int, int]) -> None:
    fees, share, bonus = case
    split = split_escrow(fees, price_share_bp=share, bonus_amount=bonus, reason="test")
    escrow = escrow_breakdown(fees).escrow_amount
    assert split.to_creator + split.to_platform + split.to_brand == escrow
    assert min(split.to_creator, split.to_platform, split.to_brand) >= 0
    assert split.creator_gross_amount == apply_rate(fees.price_amount, share) + bonus
    assert split.bonus_amount == bonus
    assert split.to_creator == split.creator_gross_amount - split.creator_commission_amount
    assert split.to_platform == split.brand_fee_amount + split.creator_commission_amount
    # the creator never gets more than the price plus the earned bonus
    assert split.to_creator <= fees.price_amount + bonus
    # fees only on what the creator earns
    assert split.brand_fee_amount == apply_rate(split.creator_gross_amount, fees.brand_fee_bp)
    assert split.creator_commission_amount == apply_rate(
        split.creator_gross_amount, fees.creator_commission_bp
    )
    assert split.as_dict()["to_brand"] == split.to_brand


@settings(max_examples=500)
@given(fees=terms())
def test_a_full_refund_returns_the_whole_escrow_to_the_brand(fees: Terms) -> None:
    split = split_escrow(fees, price_share_bp=0, bonus_amount=0, reason="full_refund")
    assert split.to_brand == escrow_breakdown(fees).escrow_amount
    assert split.to_creator == 0
    assert split.to_platform == 0


@settings(max_examples=500)
@given(case=settlements(), more_share=rates, more_bonus=amounts)
def test_a_larger_share_or_bonus_never_pays_the_creator_less(
    case: tuple[Terms, int, int], more_share: int, more_bonus: int
) -> None:
    fees, share, bonus = case
    bigger_share = min(BASIS_POINTS, share + more_share)
    bigger_bonus = min(fees.bonus_cap_amount, bonus + more_bonus)
    low = split_escrow(fees, price_share_bp=share, bonus_amount=bonus, reason="test")
    high = split_escrow(fees, price_share_bp=bigger_share, bonus_amount=bigger_bonus, reason="t")
    assert low.to_creator <= high.to_creator
    assert low.to_platform <= high.to_platform
    assert low.to_brand >= high.to_brand


@given(case=settlements(), bad_share=st.one_of(st.integers(max_value=-1), st.integers(10_001)))
def test_split_refuses_a_share_outside_the_price(
    case: tuple[Terms, int, int], bad_share: int
) -> None:
    fees, _, bonus = case
    with pytest.raises(ValueError):
        split_escrow(fees, price_share_bp=bad_share, bonus_amount=bonus, reason="test")


@given(case=settlements(), over=st.integers(1, 10**6))
def test_split_refuses_a_bonus_beyond_the_cap_or_below_zero(
    case: tuple[Terms, int, int], over: int
) -> None:
    fees, share, _ = case
    for bonus in (fees.bonus_cap_amount + over, -over):
        with pytest.raises(ValueError):
            split_escrow(fees, price_share_bp=share, bonus_amount=bonus, reason="test")


# -- KPIs and the bonus ---------------------------------------------------------------------

kpi_metrics = st.sampled_from([*KPI_METRICS, "engagements"])
kpis = st.lists(
    st.fixed_dictionaries({"metric": kpi_metrics, "target": st.integers(1, 10**6)}), max_size=10
)
snapshots = st.fixed_dictionaries({m: st.integers(0, 2 * 10**6) for m in KPI_METRICS})


@settings(max_examples=500)
@given(cap=amounts, total=st.integers(0, 10), met=st.integers(0, 10), more=st.integers(0, 10))
def test_kpi_bonus_is_capped_and_monotonic(cap: int, total: int, met: int, more: int) -> None:
    met = min(met, total)
    higher = min(total, met + more)
    bonus = kpi_bonus(cap, met, total)
    assert 0 <= bonus <= cap
    assert bonus <= kpi_bonus(cap, higher, total)
    if total:
        assert bonus == cap * met // total  # rounded down: never more than the formula
        assert kpi_bonus(cap, total, total) == cap
    assert kpi_bonus(cap, 0, total) == 0


@settings(max_examples=500)
@given(targets=kpis, snapshot=st.one_of(st.none(), snapshots))
def test_evaluate_kpis_counts_exactly_the_targets_met(
    targets: list[dict[str, int | str]], snapshot: dict[str, int] | None
) -> None:
    result = evaluate_kpis(targets, snapshot)
    assert result["total"] == len(targets)
    assert 0 <= result["met"] <= result["total"]
    assert result["met"] == sum(1 for r in result["kpis"] if r["met"])
    for kpi, row in zip(targets, result["kpis"], strict=True):
        expected = metric_value(snapshot, str(kpi["metric"])) if snapshot else 0
        assert row["actual"] == expected
        assert row["met"] == (expected >= int(kpi["target"]))
    if snapshot is None:
        assert result["met"] == 0  # targets are at least 1


@settings(max_examples=500)
@given(targets=kpis, snapshot=snapshots, growth=snapshots)
def test_more_activity_never_meets_fewer_kpis(
    targets: list[dict[str, int | str]], snapshot: dict[str, int], growth: dict[str, int]
) -> None:
    # metrics are cumulative: a later snapshot never earns a smaller bonus
    later = {m: snapshot[m] + growth[m] for m in KPI_METRICS}
    assume(targets)
    assert evaluate_kpis(targets, snapshot)["met"] <= evaluate_kpis(targets, later)["met"]


@given(snapshot=snapshots)
def test_engagements_are_likes_comments_saves_and_shares(snapshot: dict[str, int]) -> None:
    assert metric_value(snapshot, "engagements") == sum(
        snapshot[m] for m in ("likes", "comments", "saves", "shares")
    )
