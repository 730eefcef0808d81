"""The versioned metric dictionary: every number Pappus reports, defined once.

Each metric has a key, a formula, a unit, the source of its inputs and a rule for rounding.
Campaign, creator and brand figures are computed from summed inputs (`MetricInputs.__add__`),
never by averaging the ratios of the parts. `docs/metrics.md` is the output of `markdown()`.

Pure Python: no database and no HTTP here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypedDict

# Bump the minor when a metric is added, the major when a formula, unit or rounding changes.
DICTIONARY_VERSION: Final = "1.0"

# (version, what changed), newest first; markdown() prints it as the changelog.
CHANGELOG: Final[tuple[tuple[str, str], ...]] = (
    (
        "1.0",
        "First version: counts, engagement rates (by views and by followers), saves rate, CTR, "
        "conversion rate, ROAS, CPM, CPE, CPC, cost per conversion, spend, revenue and "
        "attributable follower growth.",
    ),
)

RATIO_DECIMALS: Final = 6
_RATIO_SCALE: Final = 10**RATIO_DECIMALS

# The fixed set of units; every metric uses one of them.
UNITS: Final[dict[str, str]] = {
    "count": "A whole number of things (views, clicks, followers, ...). Exact, no rounding.",
    "ratio": (
        "A dimensionless quotient as a float (0.05 means 5%), computed exactly from integers "
        "and rounded once to 6 decimal places, half up. null when the denominator is zero."
    ),
    "minor_units": (
        "An amount of money in the minor units of the campaign's currency (fen, cents), as an "
        "integer. For a cost per thing (CPE, CPC, cost per conversion) it is the cost of one "
        "thing, computed with integers only and rounded half up to a whole minor unit. null "
        "when the denominator is zero."
    ),
    "minor_units_per_1000_views": (
        "Money in minor units per thousand views (CPM), an integer computed with integers "
        "only and rounded half up to a whole minor unit. null when there are no views."
    ),
}

# The counts a campaign KPI may target.
KPI_METRICS: Final[tuple[str, ...]] = (
    "views",
    "likes",
    "comments",
    "saves",
    "shares",
    "engagements",
    "clicks",
    "conversions",
)

_SNAPSHOT_SOURCE = (
    "The latest metric snapshot of the post taken at or before the end of the measurement "
    "window. Snapshots come from the platform connector on a schedule, or are posted by staff "
    "or by a brand API key with the metrics:write scope; they hold cumulative totals, so the "
    "latest one is the value."
)
_FOLLOWERS_SOURCE = (
    "The follower count of the creator's linked account on the post's platform at publication."
)
_CLICKS_SOURCE = (
    "Valid clicks on the order's tracking links (GET /r/{code}) from publication to the end of "
    "the measurement window: clicks by bot user agents, link prefetches and repeat clicks by the "
    "same visitor on the same link within 30 minutes are removed. Where the order has no "
    "tracking link, the clicks the platform reports in the latest snapshot."
)
_CONVERSIONS_SOURCE = (
    "Conversions posted by the brand's store through the signed webhook POST "
    "/api/v1/conversions and attributed to the order: by coupon code first, else to the last "
    "valid click within the attribution window (default 7 days). Each store order is counted "
    "once across all campaigns; voided conversions are not counted."
)
_REVENUE_SOURCE = (
    "The amounts of the conversions attributed to the order (see conversions), minus their "
    "refunds, in minor units."
)
_SPEND_SOURCE = (
    "What the brand pays for the order. Once settled: the creator's gross earnings (their share "
    "of the price plus any bonus) plus the brand fee. Before settlement: the contract price plus "
    "the brand fee on it (committed spend)."
)
_FOLLOWER_GROWTH_SOURCE = (
    "Followers of the creator's linked account gained from publication to the end of the "
    "measurement window, less the growth expected over the same span, projected from the 30 days "
    "before publication."
)


def _derived(*keys: str) -> str:
    names = ", ".join(f"`{key}`" for key in keys[:-1]) + f" and `{keys[-1]}`"
    return f"Derived from {names}; see their sources."


@dataclass(frozen=True)
class MetricDefinition:
    """One metric: what it means, how it is computed, in what unit, from which inputs."""

    key: str
    name: str
    formula: str
    unit: str
    source: str
    description: str
    kpi: bool


_SIGNED_INPUTS: Final = frozenset({"follower_growth", "baseline_follower_growth"})


@dataclass(frozen=True)
class MetricInputs:
    """The raw integers every metric is computed from; money in minor units.

    Inputs of several orders add up field by field (`a + b`, or `sum(parts, MetricInputs())`),
    so campaign metrics come from summed inputs. Only money of one currency may be summed.
    """

    views: int = 0
    likes: int = 0
    comments: int = 0
    saves: int = 0
    shares: int = 0
    followers: int = 0
    clicks: int = 0
    conversions: int = 0
    revenue_amount: int = 0
    spend_amount: int = 0
    # Growth may be negative (an account can lose followers); every other input may not.
    follower_growth: int = 0
    baseline_follower_growth: int = 0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{field.name} must be an int, got {type(value).__name__}")
            if value < 0 and field.name not in _SIGNED_INPUTS:
                raise ValueError(f"{field.name} must not be negative, got {value}")

    def __add__(self, other: object) -> MetricInputs:
        if not isinstance(other, MetricInputs):
            return NotImplemented
        return MetricInputs(
            **{
                field.name: getattr(self, field.name) + getattr(other, field.name)
                for field in dataclasses.fields(self)
            }
        )

    @property
    def engagements(self) -> int:
        """Likes + comments + saves + shares."""
        return self.likes + self.comments + self.saves + self.shares


def _count(
    key: str, name: str, formula: str, source: str, description: str, *, kpi: bool
) -> MetricDefinition:
    return MetricDefinition(key, name, formula, "count", source, description, kpi)


METRICS: Final[tuple[MetricDefinition, ...]] = (
    _count("views", "Views", "views", _SNAPSHOT_SOURCE, "Times the post was viewed.", kpi=True),
    _count("likes", "Likes", "likes", _SNAPSHOT_SOURCE, "Likes on the post.", kpi=True),
    _count("comments", "Comments", "comments", _SNAPSHOT_SOURCE, "Comments on the post.", kpi=True),
    _count(
        "saves",
        "Saves",
        "saves",
        _SNAPSHOT_SOURCE,
        "Times the post was saved (collected, bookmarked).",
        kpi=True,
    ),
    _count("shares", "Shares", "shares", _SNAPSHOT_SOURCE, "Times the post was shared.", kpi=True),
    _count(
        "engagements",
        "Engagements",
        "likes + comments + saves + shares",
        _SNAPSHOT_SOURCE,
        "All interactions with the post. Views and clicks are not engagements.",
        kpi=True,
    ),
    _count(
        "followers",
        "Followers",
        "followers",
        _FOLLOWERS_SOURCE,
        "The creator's audience size when the post went out. Summed over several posts it "
        "counts a creator once per post, so it is a sum of audiences, not a number of people.",
        kpi=False,
    ),
    _count(
        "clicks",
        "Clicks",
        "clicks",
        _CLICKS_SOURCE,
        "Valid clicks that took someone from the post towards the brand.",
        kpi=True,
    ),
    _count(
        "conversions",
        "Conversions",
        "conversions",
        _CONVERSIONS_SOURCE,
        "Store orders attributed to the post.",
        kpi=True,
    ),
    MetricDefinition(
        "spend",
        "Spend",
        "spend_amount",
        "minor_units",
        _SPEND_SOURCE,
        "What the brand pays, including the brand fee.",
        kpi=False,
    ),
    MetricDefinition(
        "revenue",
        "Revenue",
        "revenue_amount",
        "minor_units",
        _REVENUE_SOURCE,
        "Attributed sales, net of refunds.",
        kpi=False,
    ),
    _count(
        "follower_growth_attributable",
        "Attributable follower growth",
        "follower_growth - baseline_follower_growth",
        _FOLLOWER_GROWTH_SOURCE,
        "Followers the creator gained beyond their usual growth. May be negative: the account "
        "grew more slowly than before publication, or lost followers.",
        kpi=False,
    ),
    MetricDefinition(
        "engagement_rate_by_views",
        "Engagement rate (by views)",
        "engagements / views",
        "ratio",
        _derived("engagements", "views"),
        "Share of views that led to an interaction. Not the same as the rate by followers.",
        kpi=False,
    ),
    MetricDefinition(
        "engagement_rate_by_followers",
        "Engagement rate (by followers)",
        "engagements / followers",
        "ratio",
        _derived("engagements", "followers"),
        "Interactions per follower of the creator at publication. Can exceed 1 when the post "
        "reaches beyond the creator's followers.",
        kpi=False,
    ),
    MetricDefinition(
        "saves_rate",
        "Saves rate",
        "saves / views",
        "ratio",
        _derived("saves", "views"),
        "Share of views that led to a save.",
        kpi=False,
    ),
    MetricDefinition(
        "ctr",
        "Click-through rate (CTR)",
        "clicks / views",
        "ratio",
        _derived("clicks", "views"),
        "Share of views that led to a valid click.",
        kpi=False,
    ),
    MetricDefinition(
        "conversion_rate",
        "Conversion rate",
        "conversions / clicks",
        "ratio",
        _derived("conversions", "clicks"),
        "Share of valid clicks that led to an attributed conversion. Coupon-code conversions "
        "need no click, so it can exceed 1.",
        kpi=False,
    ),
    MetricDefinition(
        "roas",
        "Return on ad spend (ROAS)",
        "revenue_amount / spend_amount",
        "ratio",
        _derived("revenue", "spend"),
        "Attributed revenue per unit of money spent; 2.0 means revenue was twice the spend.",
        kpi=False,
    ),
    MetricDefinition(
        "cpm",
        "Cost per mille (CPM)",
        "spend_amount * 1000 / views",
        "minor_units_per_1000_views",
        _derived("spend", "views"),
        "Cost of a thousand views.",
        kpi=False,
    ),
    MetricDefinition(
        "cpe",
        "Cost per engagement (CPE)",
        "spend_amount / engagements",
        "minor_units",
        _derived("spend", "engagements"),
        "Cost of one engagement.",
        kpi=False,
    ),
    MetricDefinition(
        "cpc",
        "Cost per click (CPC)",
        "spend_amount / clicks",
        "minor_units",
        _derived("spend", "clicks"),
        "Cost of one valid click.",
        kpi=False,
    ),
    MetricDefinition(
        "cost_per_conversion",
        "Cost per conversion",
        "spend_amount / conversions",
        "minor_units",
        _derived("spend", "conversions"),
        "Cost of one attributed conversion (sometimes called CPA).",
        kpi=False,
    ),
)

_BY_KEY: Final[dict[str, MetricDefinition]] = {metric.key: metric for metric in METRICS}


def _divide_half_up(numerator: int, denominator: int) -> int | None:
    """`numerator / denominator` rounded half up to an integer; None for a zero denominator.

    `kit.money.apply_rate` rounds the same way but only divides by 10 000, hence this helper.
    Both operands are non-negative here (MetricInputs refuses negative inputs to divisions).
    """
    if denominator == 0:
        return None
    return (2 * numerator + denominator) // (2 * denominator)


def _ratio(numerator: int, denominator: int) -> float | None:
    scaled = _divide_half_up(numerator * _RATIO_SCALE, denominator)
    # int / int is correctly rounded, so the float is the nearest one to the 6-decimal value.
    return None if scaled is None else scaled / _RATIO_SCALE


_Value = int | float | None

_CALCULATIONS: Final[dict[str, Callable[[MetricInputs], _Value]]] = {
    "views": lambda m: m.views,
    "likes": lambda m: m.likes,
    "comments": lambda m: m.comments,
    "saves": lambda m: m.saves,
    "shares": lambda m: m.shares,
    "engagements": lambda m: m.engagements,
    "followers": lambda m: m.followers,
    "clicks": lambda m: m.clicks,
    "conversions": lambda m: m.conversions,
    "spend": lambda m: m.spend_amount,
    "revenue": lambda m: m.revenue_amount,
    "follower_growth_attributable": lambda m: m.follower_growth - m.baseline_follower_growth,
    "engagement_rate_by_views": lambda m: _ratio(m.engagements, m.views),
    "engagement_rate_by_followers": lambda m: _ratio(m.engagements, m.followers),
    "saves_rate": lambda m: _ratio(m.saves, m.views),
    "ctr": lambda m: _ratio(m.clicks, m.views),
    "conversion_rate": lambda m: _ratio(m.conversions, m.clicks),
    "roas": lambda m: _ratio(m.revenue_amount, m.spend_amount),
    "cpm": lambda m: _divide_half_up(m.spend_amount * 1000, m.views),
    "cpe": lambda m: _divide_half_up(m.spend_amount, m.engagements),
    "cpc": lambda m: _divide_half_up(m.spend_amount, m.clicks),
    "cost_per_conversion": lambda m: _divide_half_up(m.spend_amount, m.conversions),
}

if _CALCULATIONS.keys() != _BY_KEY.keys() or len(_BY_KEY) != len(METRICS):
    raise RuntimeError("every metric needs exactly one definition and one calculation")
if any(metric.unit not in UNITS for metric in METRICS):
    raise RuntimeError("a metric uses a unit that is not in UNITS")
if {metric.key for metric in METRICS if metric.kpi} != set(KPI_METRICS):
    raise RuntimeError("KPI_METRICS and the kpi flags disagree")


def definition(key: str) -> MetricDefinition:
    """The definition of metric `key`; KeyError naming the known keys if there is none."""
    try:
        return _BY_KEY[key]
    except KeyError:
        known = ", ".join(_BY_KEY)
        raise KeyError(f"unknown metric {key!r}; known metrics: {known}") from None


def compute(inputs: MetricInputs) -> dict[str, int | float | None]:
    """Every metric of the dictionary, in `METRICS` order; None where a denominator is zero."""
    return {metric.key: _CALCULATIONS[metric.key](inputs) for metric in METRICS}


def kpi_value(metric: str, inputs: MetricInputs) -> int:
    """The value of a KPI metric (a count); ValueError for any other metric."""
    if metric not in KPI_METRICS:
        kind = "not a KPI metric" if metric in _BY_KEY else "not a metric"
        raise ValueError(f"{metric!r} is {kind}; KPI metrics: {', '.join(KPI_METRICS)}")
    value = _CALCULATIONS[metric](inputs)
    assert isinstance(value, int)  # KPI metrics are counts, never None
    return value


class MetricJson(TypedDict):
    key: str
    name: str
    formula: str
    unit: str
    source: str
    description: str
    kpi: bool


class DictionaryJson(TypedDict):
    version: str
    units: dict[str, str]
    metrics: list[MetricJson]


def as_json() -> DictionaryJson:
    """The dictionary as plain JSON-ready data, for the API and for reports."""
    return {
        "version": DICTIONARY_VERSION,
        "units": dict(UNITS),
        "metrics": [
            {
                "key": m.key,
                "name": m.name,
                "formula": m.formula,
                "unit": m.unit,
                "source": m.source,
                "description": m.description,
                "kpi": m.kpi,
            }
            for m in METRICS
        ],
    }


_ROUNDING_TEXT = f"""\
Every metric is computed from integers, exactly, and rounded once at the end:

- **count**: exact integers, no rounding.
- **ratio** (including ROAS): the exact quotient of two integers, rounded to \
{RATIO_DECIMALS} decimal places **half up** (0.0000005 becomes 0.000001), then returned as \
the nearest float. Python's `round()` (half to even, on a binary float) is not used.
- **money** (`minor_units`, `minor_units_per_1000_views`): integer arithmetic only, no floats, \
rounded **half up** to a whole minor unit, the same rule as `kit.money.apply_rate`. \
Examples: spend 5 over 2 engagements is a CPE of 3; spend 1 over 3 views is a CPM of 333 \
(1 * 1000 / 3 = 333.33).
- A zero denominator gives `null` (`None`), never an error, infinity or NaN.
"""

_AGGREGATION_TEXT = """\
A campaign's, creator's or brand's metrics are computed from the **sum of the inputs** of its \
orders (views, engagements, clicks, spend, ... added field by field), never by averaging the \
ratios of the orders. A campaign with one post of 1 000 views and 100 engagements and one of \
9 000 views and 90 engagements has an engagement rate by views of 190 / 10 000 = 0.019, not \
the average of 0.1 and 0.01. Money is only summed within one currency. Summed followers \
count a creator once per post.
"""

_VERSIONING_TEXT = """\
The dictionary has one version, `major.minor`. The minor is bumped when a metric is added; \
the major when a formula, unit, source or rounding rule of an existing metric changes, since \
numbers reported before and after are then not comparable. Reports state the version they \
were computed with.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The full text of docs/metrics.md."""
    lines = [
        "# Metric dictionary",
        "",
        "<!-- Generated by pappus.analytics.dictionary.markdown(); do not edit by hand. -->",
        "",
        f"Version **{DICTIONARY_VERSION}**.",
        "",
        "Every number Pappus reports to a brand is defined here once, with its formula, unit "
        "and the source of its inputs. The definitions live in code "
        "(`src/pappus/analytics/dictionary.py`) and this page is generated from them.",
        "",
        "## Summary",
        "",
        "| Key | Name | Formula | Unit | KPI |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in METRICS:
        kpi = "yes" if m.kpi else "no"
        lines.append(f"| `{m.key}` | {_cell(m.name)} | `{_cell(m.formula)}` | {m.unit} | {kpi} |")
    lines += ["", "## Units", "", "| Unit | Meaning |", "| --- | --- |"]
    lines += [f"| `{unit}` | {_cell(meaning)} |" for unit, meaning in UNITS.items()]
    lines += ["", "## Rounding", "", _ROUNDING_TEXT.rstrip("\n"), ""]
    lines += ["## Aggregation", "", _AGGREGATION_TEXT.rstrip("\n"), ""]
    lines += [
        "## KPI metrics",
        "",
        "A campaign KPI may target only these counts: "
        + ", ".join(f"`{key}`" for key in KPI_METRICS)
        + ".",
        "",
        "## Metrics",
        "",
    ]
    for m in METRICS:
        lines += [
            f"### {m.name} (`{m.key}`)",
            "",
            m.description,
            "",
            f"- **Formula**: `{m.formula}`",
            f"- **Unit**: `{m.unit}`",
            f"- **KPI target**: {'yes' if m.kpi else 'no'}",
            f"- **Source**: {m.source}",
            "",
        ]
    lines += ["## Versioning", "", _VERSIONING_TEXT.rstrip("\n"), "", "## Changelog", ""]
    lines += [f"- **{version}**: {change}" for version, change in CHANGELOG]
    return "\n".join(lines) + "\n"
