"""Integer money in minor units; rates in basis points; one rounding rule."""

from __future__ import annotations

BASIS_POINTS = 10_000

# ISO 4217 currencies Pappus accepts, with their minor-unit exponent.
CURRENCIES: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "SGD": 2,
    "JPY": 0,
    "KRW": 0,
}


def apply_rate(amount: int, rate_bp: int) -> int:
    """`amount * rate_bp / 10000`, rounded half up (away from zero for positives).

    The rule is the same everywhere money is split, so a fee shown before agreement is
    exactly the fee charged at settlement.
    """
    if amount < 0 or rate_bp < 0:
        raise ValueError("amounts and rates are non-negative")
    return (amount * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS
