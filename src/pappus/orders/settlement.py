"""Pure money arithmetic of an order: the escrow to hold, and how it splits at the end.

Every split conserves the hold exactly: to_creator + to_platform + to_brand == escrow.
Fees are charged only on what the creator actually earns, so a full refund returns the
brand's fee too. All rounding goes through `apply_rate` (half up).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pappus.analytics.dictionary import MetricInputs, kpi_value
from pappus.kit.money import BASIS_POINTS, apply_rate

KPI_METRICS = ("views", "likes", "comments", "saves", "shares", "clicks", "conversions")
SNAPSHOT_INPUTS = frozenset(KPI_METRICS)


@dataclass(frozen=True)
class Terms:
    price_amount: int
    bonus_cap_amount: int
    brand_fee_bp: int
    creator_commission_bp: int


@dataclass(frozen=True)
class EscrowBreakdown:
    price_amount: int
    bonus_cap_amount: int
    brand_fee_amount: int
    escrow_amount: int
    creator_commission_amount: int
    creator_net_amount: int


def escrow_breakdown(terms: Terms) -> EscrowBreakdown:
    """What the brand pays into escrow and what the creator nets at the full price, shown to
    both sides before they agree."""
    brand_fee = apply_rate(terms.price_amount + terms.bonus_cap_amount, terms.brand_fee_bp)
    commission = apply_rate(terms.price_amount, terms.creator_commission_bp)
    return EscrowBreakdown(
        price_amount=terms.price_amount,
        bonus_cap_amount=terms.bonus_cap_amount,
        brand_fee_amount=brand_fee,
        escrow_amount=terms.price_amount + terms.bonus_cap_amount + brand_fee,
        creator_commission_amount=commission,
        creator_net_amount=terms.price_amount - commission,
    )


@dataclass(frozen=True)
class Split:
    reason: str
    creator_gross_amount: int
    bonus_amount: int
    creator_commission_amount: int
    brand_fee_amount: int
    to_creator: int
    to_platform: int
    to_brand: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_escrow(terms: Terms, *, price_share_bp: int, bonus_amount: int, reason: str) -> Split:
    """Split the escrow: the creator earns `price_share_bp` of the price plus `bonus_amount`."""
    if not 0 <= price_share_bp <= BASIS_POINTS:
        raise ValueError("price_share_bp must be within 0..10000")
    if not 0 <= bonus_amount <= terms.bonus_cap_amount:
        raise ValueError("bonus_amount must be within 0..bonus_cap_amount")
    escrow = escrow_breakdown(terms).escrow_amount
    gross = apply_rate(terms.price_amount, price_share_bp) + bonus_amount
    brand_fee = apply_rate(gross, terms.brand_fee_bp)
    commission = apply_rate(gross, terms.creator_commission_bp)
    to_brand = escrow - gross - brand_fee
    return Split(
        reason=reason,
        creator_gross_amount=gross,
        bonus_amount=bonus_amount,
        creator_commission_amount=commission,
        brand_fee_amount=brand_fee,
        to_creator=gross - commission,
        to_platform=brand_fee + commission,
        to_brand=to_brand,
    )


def metric_value(snapshot: dict[str, int], metric: str) -> int:
    """A KPI's value as the metric dictionary defines it (docs/metrics.md)."""
    inputs = MetricInputs(**{k: v for k, v in snapshot.items() if k in SNAPSHOT_INPUTS})
    return kpi_value(metric, inputs)


def evaluate_kpis(kpis: list[dict[str, Any]], snapshot: dict[str, int] | None) -> dict[str, Any]:
    """Compare the latest in-window snapshot (metrics are cumulative) with each KPI target."""
    results = []
    for kpi in kpis:
        actual = metric_value(snapshot, kpi["metric"]) if snapshot else 0
        results.append(
            {
                "metric": kpi["metric"],
                "target": kpi["target"],
                "actual": actual,
                "met": actual >= kpi["target"],
            }
        )
    met = sum(1 for r in results if r["met"])
    return {"kpis": results, "met": met, "total": len(results), "snapshot": snapshot}


def kpi_bonus(bonus_cap_amount: int, met: int, total: int) -> int:
    """Bonus = cap x (KPIs met / KPIs set), rounded down to the minor unit."""
    if total == 0 or bonus_cap_amount == 0:
        return 0
    return bonus_cap_amount * met // total
