"""The query mix of bench/discovery.py and its raw SQL floor.

`make_mix` draws a fixed list of discovery searches from a seeded RNG (the same list every
run): mostly 1 to 4 filters of the kinds brands use, about 30% with a text query, various
sorts, about 15% second pages, and a few very broad searches.

`run_floor` answers every search as raw SQL with sqlite3 / psycopg on one connection: the
page (the same filters, sorted by the same column, LIMIT and OFFSET) and then, in a second
statement, the total and the facet counts (tier, category, region) over the matching rows.
JSON membership is `json_each` on SQLite and `jsonb` operators on PostgreSQL; text is LIKE
(ILIKE) over name, handle, bio and topics. It cannot reproduce the API's relevance ranking:
`sort=relevance` is ordered by followers there.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from api_workflow import libpq_url
from discovery_seed import LISTING_FLOOR
from harness import Progress

from pappus.sandbox import texts
from pappus.sandbox import world as w

# -- the mix --------------------------------------------------------------------------------

TIERS = ("nano", "koc", "mid", "head")
TIER_RANGES = {"nano": (1_000, 10_000), "koc": (10_000, 50_000), "mid": (50_000, 500_000)}
TIER_RANGES["head"] = (500_000, None)  # type: ignore[assignment]
# Text queries: words of the sandbox's topics (Chinese and English), as brands type them.
ZH_TERMS = (
    *("防晒", "穿搭", "探店", "精华", "底妆", "减脂", "收纳", "健身", "跑步", "猫咪"),
    *("辅食", "测评", "好物", "攻略", "理财", "普拉提", "外套", "眼影"),
)
EN_TERMS = (
    *("sunscreen", "outfits", "cafe", "serum", "foundation", "pilates", "running", "storage"),
    *("gadgets", "budgeting", "vlog", "walkthrough", "hotel", "wardrobe", "workout"),
    *("cafe hopping", "desk setup"),
)
ALL_TOPICS = [topic for topics in texts.TOPICS.values() for topic in topics]
assert all(any(term in topic for topic in ALL_TOPICS) for term in ZH_TERMS + EN_TERMS)
AGE_BANDS = (("18-24", 0.3), ("25-34", 0.35), ("18-24", 0.4))
AUDIENCE_REGIONS = (("CN-SH", 0.2), ("CN-BJ", 0.2), ("CN-GD", 0.15), ("US", 0.2))
KINDS = ("broad", "filters", "text", "page 2")
SORTS_WITHOUT_TEXT = (
    *(("followers", 4), ("engagement", 3), ("quality", 2), ("relevance", 2)),
    *(("price", 1), ("cpe", 1)),
)


@dataclass
class Query:
    n: int
    kind: str  # one of KINDS
    filters: dict[str, Any]  # API parameter -> value (a list for the repeatable ones)
    sort: str
    limit: int
    facets: bool
    page: int = 1  # 2: the next page of query `follows`
    follows: int | None = None

    def params(self, cursor: str | None = None) -> list[tuple[str, str]]:
        """The query string as pairs: repeatable parameters repeated, booleans lowercase."""
        found: list[tuple[str, str]] = []
        for name, value in self.filters.items():
            for item in value if isinstance(value, list) else [value]:
                found.append((name, str(item).lower() if isinstance(item, bool) else str(item)))
        found += [("sort", self.sort), ("limit", str(self.limit))]
        found.append(("facets", "true" if self.facets else "false"))
        if cursor is not None:
            found.append(("cursor", cursor))
        return found

    def describe(self) -> str:
        shown = "&".join(f"{k}={v}" for k, v in self.params())
        page = f" (page 2 of #{self.follows})" if self.follows is not None else ""
        return f"#{self.n} {self.kind}: {shown}{page}"


def _filter_pool(rng: random.Random) -> dict[str, Callable[[], dict[str, Any]]]:
    """Every kind of filter a brand sets, each drawing realistic values."""

    def category() -> dict[str, Any]:
        return {"category": rng.sample(w.CATEGORIES, 1 if rng.random() < 0.7 else 2)}

    def tier() -> dict[str, Any]:
        picks = rng.choices(TIERS, weights=(2, 4, 3, 1), k=1 if rng.random() < 0.7 else 2)
        return {"tier": sorted(set(picks), key=TIERS.index)}

    def region() -> dict[str, Any]:
        pool = w.ZH_REGIONS if rng.random() < 0.75 else w.EN_REGIONS
        return {"region": rng.sample(pool, 1 if rng.random() < 0.75 else 2)}

    def followers() -> dict[str, Any]:
        low = rng.choice((5_000, 10_000, 20_000, 50_000, 100_000))
        found: dict[str, Any] = {"min_followers": low}
        if rng.random() < 0.6:
            found["max_followers"] = low * rng.choice((3, 5, 10))
        return found

    def engagement() -> dict[str, Any]:
        found: dict[str, Any] = {"min_engagement_bp": rng.choice((200, 300, 400, 500))}
        if rng.random() < 0.3:
            found["max_engagement_bp"] = 1_500  # above it, engagement looks bought
        return found

    def female() -> dict[str, Any]:
        return {"audience_female_min": rng.choice((0.6, 0.6, 0.7, 0.8))}

    def age() -> dict[str, Any]:
        band, share = rng.choice(AGE_BANDS)
        return {"audience_age": band, "audience_age_min": share}

    def audience_region() -> dict[str, Any]:
        where, share = rng.choice(AUDIENCE_REGIONS)
        return {"audience_region": where, "audience_region_min": share}

    def price() -> dict[str, Any]:
        low = rng.choice((0, 50_000, 100_000, 200_000))
        high = rng.choice((300_000, 500_000, 1_000_000, 2_000_000))
        found: dict[str, Any] = {"price_format": "image_post", "max_price": high}
        if low:
            found["min_price"] = low
        if rng.random() < 0.25:
            found["price_format"] = "short_video"
        return found

    return {
        "category": category,
        "tier": tier,
        "region": region,
        "followers": followers,
        "engagement": engagement,
        "audience female": female,
        "audience age": age,
        "audience region": audience_region,
        "price": price,
        "quality": lambda: {"min_quality": rng.choice((60, 70, 70, 80))},
        "vetting": lambda: {"vetting_status": ["approved"]},
        "active": lambda: {"active_within_days": rng.choice((14, 30, 30, 60))},
        "available": lambda: {"available": True},
        "not worked with": lambda: {"not_worked_with": True},
        "language": lambda: {"language": [rng.choice(("zh", "en"))]},
        "platform": lambda: {"platform": "sandbox"},
    }


FILTER_WEIGHTS = {
    "category": 0.60,
    "tier": 0.45,
    "region": 0.35,
    "followers": 0.25,
    "engagement": 0.20,
    "audience female": 0.15,
    "audience age": 0.12,
    "audience region": 0.08,
    "price": 0.15,
    "quality": 0.15,
    "vetting": 0.20,
    "active": 0.15,
    "available": 0.10,
    "not worked with": 0.08,
    "language": 0.08,
    "platform": 0.03,
}


def _name_fragment(seed: int, n: int, world: w.WorldSpec) -> str:
    """Part of a listed creator's name or handle, as a brand types it after seeing it. Its
    own RNG, so the rest of the mix does not depend on the size of the world."""
    rng = random.Random(f"{seed}:{n}")
    acc = w.account(world, rng.randrange(world.accounts))
    for _ in range(20):
        if acc.followers >= LISTING_FLOOR:
            break
        acc = w.account(world, rng.randrange(world.accounts))
    if rng.random() < 0.4:
        return acc.handle.split("_")[0]
    if acc.language == "zh":
        return acc.display_name[:3]
    return acc.display_name


def make_mix(count: int, seed: int, world: w.WorldSpec) -> list[Query]:
    """`count` searches, the same for the same seed and world size."""
    rng = random.Random(seed)
    pool = _filter_pool(rng)
    queries: list[Query] = []
    while len(queries) < count:
        n = len(queries)
        roll = rng.random()
        limit = rng.choices((20, 50, 100), weights=(8, 1.5, 0.5))[0]
        facets = rng.random() < 0.9
        if roll < 0.04:
            sort = "followers" if rng.random() < 0.75 else "engagement"
            queries.append(Query(n, "broad", {}, sort, limit, facets))
            continue
        text = roll < 0.34
        filters: dict[str, Any] = {}
        if text:
            terms = ZH_TERMS if rng.random() < 0.6 else EN_TERMS
            name = rng.random() < 0.2
            filters["q"] = _name_fragment(seed, n, world) if name else rng.choice(terms)
            wanted = rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1))[0]
        else:
            wanted = rng.choices((1, 2, 3, 4), weights=(25, 35, 25, 15))[0]
        if not text and rng.random() < 0.2:
            names = ["category", "tier", "region"]  # the classic brief
        else:
            names = _weighted_names(rng, wanted)
        for name in names:
            filters.update(pool[name]())
        if text and rng.random() < 0.65:
            sort = "relevance"
        elif "price_format" in filters and rng.random() < 0.5:
            sort = rng.choice(("price", "cpe"))
        else:
            sorts, weights = zip(*SORTS_WITHOUT_TEXT, strict=True)
            sort = rng.choices(sorts, weights=weights)[0]
            if sort in ("price", "cpe") and "price_format" not in filters:
                filters["price_format"] = "image_post"  # what to sort by; filters nothing
        queries.append(Query(n, "text" if text else "filters", filters, sort, limit, facets))
        if len(queries) < count and rng.random() < 0.18:
            page2 = Query(len(queries), "page 2", dict(filters), sort, limit, False, 2, n)
            queries.append(page2)
    return queries


def _weighted_names(rng: random.Random, wanted: int) -> list[str]:
    pool = dict(FILTER_WEIGHTS)
    names = []
    for _ in range(wanted):
        name = rng.choices(list(pool), weights=list(pool.values()))[0]
        names.append(name)
        del pool[name]
    return names


def units(queries: list[Query]) -> list[list[Query]]:
    """Searches with their second page, if any, as one unit (a client runs a unit in order)."""
    found: list[list[Query]] = []
    for query in queries:
        if query.follows is not None and found and found[-1][0].n == query.follows:
            found[-1].append(query)
        else:
            found.append([query])
    return found


# -- the raw SQL floor ----------------------------------------------------------------------

PAGE_COLUMNS = (
    *("id", "display_name", "bio", "categories", "regions", "languages", "formats"),
    *("primary_platform", "handle", "followers", "engagement_rate_bp"),
    *("audience_quality_score", "available", "created_at"),
)


@dataclass
class Statement:
    sql: str
    params: list[Any] = field(default_factory=list)


class FloorSQL:
    """The SQL of one search for one dialect: WHERE on the columns, JSON membership with
    json_each (SQLite) or jsonb operators (PostgreSQL), LIKE for text."""

    def __init__(self, postgres: bool, now: datetime, organization_id: str) -> None:
        self.postgres, self.now, self.organization_id = postgres, now, organization_id
        self.p = "%s" if postgres else "?"

    # -- pieces

    def _json_number(self, column: str, *path: str) -> str:
        if self.postgres:
            walk = "".join(f"->'{part}'" for part in path[:-1])
            return f"({column}{walk}->>'{path[-1]}')::float8"
        return f"json_extract({column}, '$.{'.'.join(chr(34) + p + chr(34) for p in path)}')"

    def _any_of(self, column: str, values: list[str], params: list[Any]) -> str:
        if self.postgres:
            params.append(values)
            return f"{column}::jsonb ?| {self.p}::text[]"
        params.extend(values)
        marks = ", ".join([self.p] * len(values))
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value IN ({marks}))"

    def _like(self, text: str, params: list[Any]) -> str:
        """Every word of the text (split at spaces, as the API wants all its words) in the
        name, handle, bio or a topic, as LIKE '%word%' (case-insensitive for Latin)."""
        p, found = self.p, []
        for word in text.split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.extend([f"%{escaped}%"] * 4)
            if self.postgres:
                found.append(
                    f"(cp.display_name ILIKE {p} OR cp.handle ILIKE {p} OR cp.bio ILIKE {p} OR "
                    "EXISTS (SELECT 1 FROM json_array_elements_text(cp.topics) t(value) "
                    f"WHERE t.value ILIKE {p}))"
                )
            else:
                found.append(
                    f"(cp.display_name LIKE {p} ESCAPE '\\' OR cp.handle LIKE {p} ESCAPE '\\' "
                    f"OR cp.bio LIKE {p} ESCAPE '\\' OR EXISTS (SELECT 1 FROM "
                    f"json_each(cp.topics) WHERE value LIKE {p} ESCAPE '\\'))"
                )
        return " AND ".join(found)

    def _price(self, fmt: str, params: list[Any]) -> str:
        """The creator's price for one format (NULL without one)."""
        params.append(fmt)
        if self.postgres:
            return (
                "(SELECT min((r->>'amount')::bigint) FROM json_array_elements(cp.rate_card) r "
                f"WHERE r->>'format' = {self.p})"
            )
        return (
            "(SELECT min(json_extract(r.value, '$.amount')) FROM json_each(cp.rate_card) r "
            f"WHERE json_extract(r.value, '$.format') = {self.p})"
        )

    def _time(self, moment: datetime) -> Any:
        return moment if self.postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def where(self, f: dict[str, Any]) -> tuple[str, list[Any]]:
        """The filters as a WHERE clause on creator_profiles AS cp, and its parameters."""
        p, params = self.p, []
        clauses = [f"cp.followers >= {p}"]
        params.append(LISTING_FLOOR)
        if "platform" in f:
            clauses.append(f"cp.primary_platform = {p}")
            params.append(f["platform"])
        if "tier" in f:
            ranges = []
            for tier in f["tier"]:
                low, high = TIER_RANGES[tier]
                if high is None:
                    ranges.append(f"cp.followers >= {p}")
                    params.append(low)
                else:
                    ranges.append(f"(cp.followers >= {p} AND cp.followers < {p})")
                    params += [low, high]
            clauses.append("(" + " OR ".join(ranges) + ")")
        for name, column, op in (
            ("min_followers", "cp.followers", ">="),
            ("max_followers", "cp.followers", "<="),
            ("min_engagement_bp", "cp.engagement_rate_bp", ">="),
            ("max_engagement_bp", "cp.engagement_rate_bp", "<="),
            ("min_quality", "cp.audience_quality_score", ">="),
        ):
            if name in f:
                clauses.append(f"{column} {op} {p}")
                params.append(f[name])
        if "vetting_status" in f:
            clauses.append(f"cp.vetting_status IN ({', '.join([p] * len(f['vetting_status']))})")
            params += f["vetting_status"]
        if "active_within_days" in f:
            # in whole UTC days, as the API counts: active on or after that day
            today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
            clauses.append(f"cp.last_active_at >= {p}")
            params.append(self._time(today - timedelta(days=f["active_within_days"])))
        if f.get("not_worked_with"):
            clauses.append(
                f"cp.id NOT IN (SELECT o.creator_id FROM orders o WHERE o.organization_id = {p})"
            )
            params.append(self.organization_id)
        if "available" in f:
            clauses.append(f"cp.available = {p}")
            params.append(f["available"] if self.postgres else int(f["available"]))
        # JSON, then text: the costly tests last, on the rows the others kept
        for name, column in (
            ("category", "cp.categories"),
            ("region", "cp.regions"),
            ("language", "cp.languages"),
        ):
            if name in f:
                clauses.append(self._any_of(column, f[name], params))
        female = self._json_number("cp.audience", "gender", "female")
        if "audience_female_min" in f:
            clauses.append(f"{female} >= {p}")
            params.append(f["audience_female_min"])
        if "audience_female_max" in f:
            clauses.append(f"{female} <= {p}")
            params.append(f["audience_female_max"])
        if "audience_age" in f:
            share = self._json_number("cp.audience", "age_bands", f["audience_age"])
            clauses.append(f"{share} >= {p}")
            params.append(f.get("audience_age_min", 0))
        if "audience_region" in f:
            share = self._json_number("cp.audience", "top_regions", f["audience_region"])
            clauses.append(f"{share} >= {p}")
            params.append(f.get("audience_region_min", 0))
        if "price_format" in f and ("min_price" in f or "max_price" in f):
            clauses.append(self._price_filter(f, params))  # a format alone filters nothing
        if "q" in f:
            clauses.append(self._like(f["q"], params))
        return " AND ".join(clauses), params

    def _price_filter(self, f: dict[str, Any], params: list[Any]) -> str:
        p = self.p
        params.append(f["price_format"])
        if self.postgres:
            amount, source = "(r->>'amount')::bigint", "json_array_elements(cp.rate_card) r"
            test = f"r->>'format' = {p}"
        else:
            amount, source = "json_extract(r.value, '$.amount')", "json_each(cp.rate_card) r"
            test = f"json_extract(r.value, '$.format') = {p}"
        for name, op in (("min_price", ">="), ("max_price", "<=")):
            if name in f:
                test += f" AND {amount} {op} {p}"
                params.append(f[name])
        return f"EXISTS (SELECT 1 FROM {source} WHERE {test})"

    def sort_key(self, query: Query, params: list[Any]) -> tuple[str, bool]:
        """The value the API sorts by, and whether highest first; the API breaks ties by
        its index position, which follows the id (ascending)."""
        sort = query.sort
        if sort == "engagement":
            return "cp.engagement_rate_bp", True
        if sort == "quality":
            return "cp.audience_quality_score", True
        if sort in ("price", "cpe"):
            price = self._price(query.filters.get("price_format", "image_post"), params)
            if sort == "price":
                return price, False
            # cost per expected engagement in thousandths of a minor unit, whole (as the
            # API's sort key); without an engagement figure: NULL, last
            expected = "NULLIF(cp.followers * cp.engagement_rate_bp / 10000.0, 0)"
            cost = f"{price} * 1000.0 / {expected}"
            return (f"trunc({cost})" if self.postgres else f"CAST({cost} AS INTEGER)"), False
        return "cp.followers", True  # followers; relevance is not reproducible

    # -- the statement

    def search(self, query: Query) -> tuple[Statement, bool]:
        """One scan: the matching rows' sort keys, the page's ids, and the facet counts (or
        only the total) of the matches. Rows come as (part, value, sort key, count)."""
        params: list[Any] = []
        key, descending = self.sort_key(query, params)
        where, where_params = self.where(query.filters)
        params += where_params
        offset = query.limit * (query.page - 1)
        params += [query.limit + 1, offset]
        order = f"k {'DESC' if descending else 'ASC'} NULLS LAST, id"
        parts = [
            "WITH m AS MATERIALIZED (SELECT cp.id, cp.followers, cp.categories, cp.regions, "
            f"{key} AS k FROM creator_profiles cp WHERE {where}) "
            "SELECT 'page', p.id, p.k, NULL FROM "
            f"(SELECT id, k FROM m ORDER BY {order} LIMIT {self.p} OFFSET {self.p}) p"
        ]
        if query.facets:
            tiers = " ".join(
                f"WHEN followers >= {low} THEN '{tier}'"
                for tier, (low, _high) in reversed(TIER_RANGES.items())
            )
            if self.postgres:
                cat = "json_array_elements_text(m.categories) j(value)"
                reg = "json_array_elements_text(m.regions) j(value)"
            else:
                cat, reg = "json_each(m.categories) j", "json_each(m.regions) j"
            parts += [
                f"SELECT 'tier', CASE {tiers} END, NULL, count(*) FROM m GROUP BY 2",
                f"SELECT 'category', j.value, NULL, count(*) FROM m, {cat} GROUP BY 2",
                f"SELECT 'region', j.value, NULL, count(*) FROM m, {reg} GROUP BY 2",
            ]
        else:
            parts.append("SELECT 'total', NULL, NULL, count(*) FROM m")
        return Statement(" UNION ALL ".join(parts), params), descending

    def rows(self, ids: list[str]) -> Statement:
        """The page's creators, by primary key."""
        columns = ", ".join(PAGE_COLUMNS)
        if self.postgres:
            return Statement(f"SELECT {columns} FROM creator_profiles WHERE id = ANY(%s)", [ids])
        marks = ", ".join("?" * len(ids))
        return Statement(f"SELECT {columns} FROM creator_profiles WHERE id IN ({marks})", ids)


@dataclass
class Answer:
    """What one search returned (from the floor or the API)."""

    seconds: float
    total: int
    ids: list[str]
    has_next: bool
    facets: dict[str, dict[str, int]] | None


class FloorClient:
    """One connection answering searches as raw SQL, each statement bounded in time."""

    def __init__(self, url: str, postgres: bool, organization_id: str, timeout: float) -> None:
        self.postgres, self.timeout = postgres, timeout
        self.sql = FloorSQL(postgres, datetime.now(UTC), organization_id)
        if postgres:
            import psycopg

            self.connection: Any = psycopg.connect(libpq_url(url), autocommit=True)
            self.connection.execute(f"SET statement_timeout = {int(timeout * 1000)}")
            self.connection.execute("SET work_mem = '256MB'")  # the matches stay in memory
        else:
            path = url.removeprefix("sqlite:///")
            self.connection = sqlite3.connect(path, isolation_level=None)
            # The app's pragmas (pappus.db); and a page cache that holds the whole database
            # and temporary tables in memory, so a scan reads no file after the first.
            for pragma in ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL"):
                self.connection.execute(f"PRAGMA {pragma}")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            cache_kib = os.path.getsize(path) // 1024 + 65_536
            self.connection.execute(f"PRAGMA cache_size=-{cache_kib}")
            self.connection.execute("PRAGMA temp_store=MEMORY")

    def close(self) -> None:
        self.connection.close()

    def _run(self, statement: Statement) -> list[Any]:
        if self.postgres:
            return list(self.connection.execute(statement.sql, statement.params).fetchall())
        deadline = time.perf_counter() + self.timeout

        def over_time() -> int:
            return 1 if time.perf_counter() > deadline else 0  # non-zero interrupts the query

        self.connection.set_progress_handler(over_time, 10_000)
        try:
            return self.connection.execute(statement.sql, statement.params).fetchall()
        finally:
            self.connection.set_progress_handler(None, 0)

    def answer(self, query: Query) -> Answer:
        """The search as the API answers it: the page of creators in order, the total and
        the facet counts; timed from the first statement to the last row."""
        self.sql.now = datetime.now(UTC)  # as the API evaluates active_within_days
        statement, descending = self.sql.search(query)
        started = time.perf_counter()
        found = self._run(statement)
        page = sorted(
            ((value, key) for part, value, key, _count in found if part == "page"),
            key=lambda row: (row[1] is None, -(row[1] or 0) if descending else row[1] or 0, row[0]),
        )
        ids = [creator_id for creator_id, _key in page[: query.limit]]
        by_id = {row[0]: row for row in self._run(self.sql.rows(ids))} if ids else {}
        creators = [by_id[i] for i in ids]
        elapsed = time.perf_counter() - started
        assert len(creators) == len(ids)
        facets: dict[str, dict[str, int]] | None = None
        if query.facets:
            facets = {"tier": {}, "category": {}, "region": {}}
            for part, value, _key, count in found:
                if part in facets:
                    facets[part][value] = count
            total = sum(facets["tier"].values())
        else:
            total = next(count for part, _value, _key, count in found if part == "total")
        return Answer(elapsed, total, ids, len(page) > query.limit, facets)


@dataclass
class FloorRun:
    answers: dict[int, Answer]
    failures: dict[int, str]
    skipped: list[int]  # second pages whose first page had no next page (or failed)
    elapsed: float
    stopped_early: bool


def run_floor(
    url: str,
    postgres: bool,
    organization_id: str,
    queries: list[Query],
    label: str,
    max_seconds: float,
    statement_timeout: float,
) -> FloorRun:
    """Every search in order on one connection, until done or `max_seconds` pass."""
    client = FloorClient(url, postgres, organization_id, statement_timeout)
    progress = Progress(label, len(queries), " queries")
    answers: dict[int, Answer] = {}
    failures: dict[int, str] = {}
    skipped: list[int] = []
    started = time.perf_counter()
    stopped = False
    try:
        warm = Query(-1, "broad", {}, "followers", 20, True)
        client.answer(warm)  # not counted: reads the table into the caches once
        for done, query in enumerate(queries):
            if time.perf_counter() - started > max_seconds:
                stopped = True
                break
            first = answers.get(query.follows) if query.follows is not None else None
            if query.follows is not None and (first is None or not first.has_next):
                skipped.append(query.n)  # as the API client: no cursor, no second page
                continue
            try:
                answers[query.n] = client.answer(query)
            except Exception as exc:  # a timeout or an error: counted, the run goes on
                failures[query.n] = f"{type(exc).__name__}: {exc}"[:300]
            progress.update(done + 1, f"{time.perf_counter() - started:.0f} s")
    finally:
        client.close()
    elapsed = time.perf_counter() - started
    progress.done(f"{len(answers):,} answered in {elapsed:.0f} s")
    return FloorRun(answers, failures, skipped, elapsed, stopped)
