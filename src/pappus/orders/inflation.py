"""Campaign-time fraud: before the escrow of a published order is released, its post's metric
snapshots are checked for inflation. A post that looks inflated holds the payout and opens a
staff review (a dispute opened by the system) instead of paying out.

The checks read the snapshots only (whatever their source: the connector, staff, a store's
API key), so they run inside the timer that ends the measurement window:

- engagement_exceeds_views: more likes, saves, comments and shares than views. Organic
  engagement comes from viewers; bought likes do not need views.
- views_without_engagement: at least 10,000 views and fewer than 2 engagements per 1,000
  views (organic posts collect 10 to 100). Bought views do not engage.
- late_burst: one interval between snapshots, starting two days or more after publication,
  that brought at least 40% of the views or engagements at ten times or more the hourly pace
  of the other intervals. Organic posts collect most of their audience in the first days
  (the sandbox's saturating curve has a time constant of 1.5 days); a burst a week later is
  what a bought boost looks like.
- suspicious_engagement: of at least 30 comments read from the platform (the scheduled
  metric reads keep a `comment_audit` on the publication), 35% or more generic, emoji-only or
  spam, or written by accounts with machine-made usernames (vetting/signals.py's rules).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

MIN_VIEWS_FOR_RATIO = 10_000
MIN_ENGAGEMENT_PER_VIEW = 0.002
BURST_SHARE = 0.4
BURST_PACE = 10.0
BURST_NOT_BEFORE = timedelta(days=2)
MIN_COMMENTS_AUDITED = 30
SUSPICIOUS_COMMENT_SHARE = 0.35


class Snapshot(Protocol):
    taken_at: datetime
    views: int
    likes: int
    comments: int
    saves: int
    shares: int


@dataclass(frozen=True)
class Finding:
    check: str
    detail: str


def _from_comments(audit: Mapping[str, Any]) -> list[Finding]:
    comments, suspicious = int(audit.get("comments", 0)), int(audit.get("suspicious", 0))
    if comments < MIN_COMMENTS_AUDITED or suspicious < SUSPICIOUS_COMMENT_SHARE * comments:
        return []
    return [
        Finding(
            "suspicious_engagement",
            f"{suspicious} of {comments} comments read from the platform are generic, emoji-only"
            " or spam, or come from accounts with machine-made usernames",
        )
    ]


def _engagements(s: Snapshot) -> int:
    return s.likes + s.comments + s.saves + s.shares


def _burst(series: Sequence[Snapshot], published_at: datetime, value: str) -> Finding | None:
    points = [(s.taken_at, _engagements(s) if value == "engagements" else s.views) for s in series]
    if len(points) < 4 or points[-1][1] <= 0:
        return None
    intervals = []
    previous_at, previous_value = published_at, 0
    for at, total in points:
        hours = (at - previous_at).total_seconds() / 3600
        if hours > 0:
            intervals.append((previous_at, max(0, total - previous_value), hours))
        previous_at, previous_value = at, total
    final = points[-1][1]
    for i, (start, gain, hours) in enumerate(intervals):
        if start - published_at < BURST_NOT_BEFORE or gain < BURST_SHARE * final:
            continue
        others = [g / h for j, (_, g, h) in enumerate(intervals) if j != i]
        pace = statistics.median(others) if others else 0.0
        if gain / hours >= BURST_PACE * max(pace, 1e-9):
            return Finding(
                "late_burst",
                f"{gain:,} {value} ({gain / final:.0%} of the total) arrived in {hours:.0f} h "
                f"from {start.isoformat()}, {(start - published_at).days} days after "
                "publication, at more than ten times the pace of the rest",
            )
    return None


def findings(
    snapshots: Sequence[Snapshot],
    published_at: datetime,
    comment_audit: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Why the post's metrics look inflated; empty when they do not (or there are none)."""
    found = _from_comments(comment_audit or {})
    series = sorted(snapshots, key=lambda s: s.taken_at)
    if not series:
        return found
    latest = series[-1]
    engaged = _engagements(latest)
    if latest.views >= 100 and engaged > latest.views:
        found.append(
            Finding(
                "engagement_exceeds_views",
                f"{engaged:,} engagements for {latest.views:,} views",
            )
        )
    if latest.views >= MIN_VIEWS_FOR_RATIO and engaged < MIN_ENGAGEMENT_PER_VIEW * latest.views:
        found.append(
            Finding(
                "views_without_engagement",
                f"{latest.views:,} views but {engaged:,} engagements "
                f"({engaged / latest.views * 1000:.1f} per 1,000 views; organic posts get 10+)",
            )
        )
    for value in ("views", "engagements"):
        burst = _burst(series, published_at, value)
        if burst is not None:
            found.append(burst)
    return found
