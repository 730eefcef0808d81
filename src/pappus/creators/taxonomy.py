"""The fixed category taxonomy and content formats (documented in docs/architecture.md)."""

from typing import Literal, get_args

Category = Literal[
    "beauty",
    "skincare",
    "fashion",
    "food",
    "travel",
    "fitness",
    "parenting",
    "home",
    "tech",
    "gaming",
    "pets",
    "education",
    "finance",
    "automotive",
    "health",
    "lifestyle",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

ContentFormat = Literal["image_post", "short_video", "long_video", "live_stream", "story"]
FORMATS: tuple[str, ...] = get_args(ContentFormat)

# Followers at or above each floor; under 1,000 a creator is not listed in discovery.
TIER_FLOORS: tuple[tuple[str, int], ...] = (
    ("head", 500_000),
    ("mid", 50_000),
    ("koc", 10_000),
    ("nano", 1_000),
)


def tier_for(followers: int) -> str | None:
    for tier, floor in TIER_FLOORS:
        if followers >= floor:
            return tier
    return None


def tier_bounds(tier: str) -> tuple[int, int | None]:
    floors = dict(TIER_FLOORS)
    order = [t for t, _ in reversed(TIER_FLOORS)]
    index = order.index(tier)
    upper = floors[order[index + 1]] if index + 1 < len(order) else None
    return floors[tier], upper
