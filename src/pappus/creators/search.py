"""The discovery index: the creator catalog as numpy columns plus an inverted text index,
held in each API process and kept current from the database.

Why in memory: discovery combines a dozen filters, a full-text query in Chinese or English,
several sorts and facet counts over whatever matched. At a million creators neither SQLite nor
PostgreSQL answers that in tens of milliseconds with ordinary indexes (facet counts over a
broad filter alone read most of the table), while vectorised numpy does each step in a few.

How it stays correct with many processes: the database is the only truth. Each process builds
its index on first use and, before answering, reads the profiles whose `updated_at` is at or
after its watermark minus an overlap (so slow commits and small clock differences are caught),
at most once a second. Text matches are recomputed for changed creators in a small delta.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from pappus.creators.taxonomy import CATEGORIES, FORMATS, TIER_FLOORS
from pappus.errors import InvalidInput

TIERS = ("under", "nano", "koc", "mid", "head")  # codes 0..4
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45+")
VETTING = ("unvetted", "pending", "approved", "rejected", "flagged")
SORTS = ("relevance", "followers", "engagement", "quality", "price", "cpe")
LISTING_FLOOR = 1_000
MIN_PEERS = 20  # creators an engagement benchmark needs
STATIC_ORDER_ABOVE = 20_000  # matches beyond which a sort walks a precomputed order
REGION_SLOTS, LANGUAGE_SLOTS, AUDIENCE_REGION_SLOTS = 4, 3, 5
REFRESH_EVERY_SECONDS = 1.0
REFRESH_OVERLAP = timedelta(seconds=10)
# Creators changed since the build keep their text in Python sets (the delta), which every
# text search merges in; past this many the index is rebuilt in the background and swapped in.
COMPACT_AT_LEAST = 20_000
COMPACT_AT_SHARE = 0.05
POSITION_BITS = 24  # positions up to 16.7 million creators per index
MAX_KEY = (1 << (62 - POSITION_BITS)) - 1
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_LATIN = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")

Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


# -- text ------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str, *, prefixes: bool = False) -> set[str]:
    """Latin words (with their 3- to 8-letter prefixes when `prefixes`, for names) and, for
    Chinese, single characters and character bigrams (no dictionary needed)."""
    text = normalise(text)
    found: set[str] = set()
    for word in _LATIN.findall(text):
        found.add(word)
        if prefixes:
            found.update(word[:n] for n in range(3, min(len(word), 8)))
    for run in _CJK.findall(text):
        found.update(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def query_tokens(text: str) -> list[str]:
    """What a query must match: Latin words, and Chinese runs as bigrams (a run of one
    character as itself)."""
    text = normalise(text)
    wanted = list(dict.fromkeys(_LATIN.findall(text)))
    for run in _CJK.findall(text):
        if len(run) == 1:
            wanted.append(run)
        else:
            wanted += [run[i : i + 2] for i in range(len(run) - 1)]
    return list(dict.fromkeys(wanted))


# -- a creator as the index sees it ----------------------------------------------------------


@dataclass
class CatalogRow:
    """The columns of a creator profile that discovery reads (see creators.repository)."""

    id: str
    display_name: str
    handle: str | None
    bio: str
    categories: list[str]
    regions: list[str]
    languages: list[str]
    topics: list[str]
    primary_platform: str | None
    followers: int
    engagement_rate_bp: int | None
    audience_quality_score: int | None
    rate_card: list[dict[str, Any]]
    audience: dict[str, Any]
    last_active_at: datetime | None
    vetting_status: str
    available: bool
    updated_at: datetime
    contact_email_verified_at: datetime | None = None


def tier_code(followers: int) -> int:
    for tier, floor in TIER_FLOORS:
        if followers >= floor:
            return TIERS.index(tier)
    return 0


class _Codes:
    """String values (regions, languages, platforms) as small integers."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, value: str) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.names)
            self.names.append(value)
        return found

    def find(self, value: str) -> int:
        return self.codes.get(value, -1)


# -- the query -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscoveryQuery:
    text: str | None = None
    platform: str | None = None
    tiers: tuple[str, ...] = ()
    min_followers: int | None = None
    max_followers: int | None = None
    min_engagement_bp: int | None = None
    max_engagement_bp: int | None = None
    categories: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    audience_female_min: float | None = None
    audience_female_max: float | None = None
    audience_age: str | None = None
    audience_age_min: float | None = None
    audience_region: str | None = None
    audience_region_min: float | None = None
    price_format: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    min_quality: int | None = None
    vetting_statuses: tuple[str, ...] = ()
    active_within_days: int | None = None
    available: bool | None = None
    contact_verified: bool | None = None
    exclude_ids: frozenset[str] = frozenset()
    only_ids: frozenset[str] | None = None
    sort: str = "relevance"
    limit: int = 20
    cursor: str | None = None
    facets: bool = True


@dataclass(frozen=True)
class Facets:
    tier: dict[str, int]
    category: dict[str, int]
    region: dict[str, int]


@dataclass(frozen=True)
class DiscoveryResult:
    ids: list[str]
    next_cursor: str | None
    total: int
    facets: Facets | None


def encode_cursor(sort: str, key: int) -> str:
    raw = json.dumps({"s": sort, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        key = value["k"]
        if value["s"] != sort or not isinstance(key, int):
            raise ValueError
    except (binascii.Error, ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise InvalidInput(
            "cursor is not one this search issued (same sort needed)", field="query.cursor"
        ) from None
    return key


# -- the index -------------------------------------------------------------------------------


def _member(codes: Any, wanted: list[int], size: int) -> Bool:
    """codes in wanted, for small non-negative codes: a lookup table, not np.isin's sort."""
    table = np.zeros(size, dtype=np.bool_)
    table[wanted] = True
    found: Bool = table[codes]
    return found


class DiscoveryIndex:
    """One process's index of the catalog. Thread-safe: one thread refreshes at a time and
    readers see whole arrays (a row changing during a query shows old or new values)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.size = 0
        self.ids: list[str] = []
        self.position: dict[str, int] = {}
        self.regions, self.languages, self.platforms = _Codes(), _Codes(), _Codes()
        self.watermark: datetime | None = None
        self.checked_at = 0.0
        self.built = False
        self.build_seconds: float | None = None
        self._allocate(1024)
        # text: token -> positions, for the name field and the body field, built in bulk;
        # creators changed since are in the delta and masked out of the bulk postings
        self.name_postings: dict[str, npt.NDArray[np.int32]] = {}
        self.body_postings: dict[str, npt.NDArray[np.int32]] = {}
        self.delta_name: dict[str, set[int]] = {}
        self.delta_body: dict[str, set[int]] = {}
        self.delta_tokens: dict[int, tuple[set[str], set[str]]] = {}
        self.region_slots_used = self.language_slots_used = 0
        # what each creator changed by a refresh looked like: a refresh re-reads the rows of
        # its overlap window every time, and must not treat them as changes (that would drop
        # the cached sort orders and grow the text delta every second)
        self.indexed_as: dict[int, int] = {}
        self._orders: dict[str, tuple[Int, Int]] = {}

    # -- storage

    def _allocate(self, capacity: int) -> None:
        def grow(old: Any, shape: tuple[int, ...], dtype: Any, fill: Any) -> Any:
            new = np.full(shape, fill, dtype=dtype)
            if old is not None:
                new[: self.size] = old[: self.size]
            return new

        get = self.__dict__.get
        self.capacity = capacity
        self.followers = grow(get("followers"), (capacity,), np.int64, 0)
        self.engagement = grow(get("engagement"), (capacity,), np.int32, -1)
        self.quality = grow(get("quality"), (capacity,), np.int16, -1)
        self.tier = grow(get("tier"), (capacity,), np.int8, 0)
        self.category_bits = grow(get("category_bits"), (capacity,), np.uint32, 0)
        self.region_codes = grow(get("region_codes"), (capacity, REGION_SLOTS), np.int32, -1)
        self.language_codes = grow(get("language_codes"), (capacity, LANGUAGE_SLOTS), np.int32, -1)
        self.platform = grow(get("platform"), (capacity,), np.int32, -1)
        self.available = grow(get("available"), (capacity,), np.bool_, False)
        self.contact_verified = grow(get("contact_verified"), (capacity,), np.bool_, False)
        self.vetting = grow(get("vetting"), (capacity,), np.int8, 0)
        self.active_day = grow(get("active_day"), (capacity,), np.int32, -1)
        self.female = grow(get("female"), (capacity,), np.float32, np.nan)
        self.age = grow(get("age"), (capacity, len(AGE_BANDS)), np.float32, np.nan)
        self.audience_region_codes = grow(
            get("audience_region_codes"), (capacity, AUDIENCE_REGION_SLOTS), np.int32, -1
        )
        self.audience_region_shares = grow(
            get("audience_region_shares"), (capacity, AUDIENCE_REGION_SLOTS), np.float32, 0.0
        )
        self.price = grow(get("price"), (capacity, len(FORMATS)), np.int64, -1)
        self.in_delta = grow(get("in_delta"), (capacity,), np.bool_, False)

    def _set_columns(self, pos: int, row: CatalogRow) -> None:
        self.followers[pos] = row.followers
        self.engagement[pos] = -1 if row.engagement_rate_bp is None else row.engagement_rate_bp
        self.quality[pos] = -1 if row.audience_quality_score is None else row.audience_quality_score
        self.tier[pos] = tier_code(row.followers)
        bits = 0
        for category in row.categories or []:
            if category in CATEGORIES:
                bits |= 1 << CATEGORIES.index(category)
        self.category_bits[pos] = bits
        used = self._set_codes(self.region_codes, pos, row.regions, self.regions)
        self.region_slots_used = max(self.region_slots_used, used)
        used = self._set_codes(self.language_codes, pos, row.languages, self.languages)
        self.language_slots_used = max(self.language_slots_used, used)
        platform = row.primary_platform
        self.platform[pos] = self.platforms.code(platform) if platform else -1
        self.available[pos] = row.available
        self.contact_verified[pos] = row.contact_email_verified_at is not None
        status = row.vetting_status
        self.vetting[pos] = VETTING.index(status) if status in VETTING else 0
        active = row.last_active_at
        self.active_day[pos] = (active - EPOCH).days if active else -1
        audience = row.audience or {}
        gender = audience.get("gender") or {}
        female = gender.get("female")
        self.female[pos] = float(female) if isinstance(female, int | float) else np.nan
        ages = audience.get("age_bands") or {}
        for i, band in enumerate(AGE_BANDS):
            share = ages.get(band)
            self.age[pos, i] = float(share) if isinstance(share, int | float) else np.nan
        tops = sorted(
            ((str(k), float(v)) for k, v in (audience.get("top_regions") or {}).items()),
            key=lambda kv: -kv[1],
        )[:AUDIENCE_REGION_SLOTS]
        self.audience_region_codes[pos] = -1
        self.audience_region_shares[pos] = 0.0
        for i, (region, share) in enumerate(tops):
            self.audience_region_codes[pos, i] = self.regions.code(region)
            self.audience_region_shares[pos, i] = share
        self.price[pos] = -1
        for entry in row.rate_card or []:
            fmt, amount = entry.get("format"), entry.get("amount")
            if fmt in FORMATS and isinstance(amount, int) and amount >= 0:
                i = FORMATS.index(fmt)
                current = self.price[pos, i]
                self.price[pos, i] = amount if current < 0 else min(current, amount)

    @staticmethod
    def _set_codes(matrix: Any, pos: int, values: Sequence[str], codes: _Codes) -> int:
        matrix[pos] = -1
        kept = list(dict.fromkeys(values or []))[: matrix.shape[1]]
        for i, value in enumerate(kept):
            matrix[pos, i] = codes.code(str(value))
        return len(kept)

    @staticmethod
    def _texts(row: CatalogRow) -> tuple[set[str], set[str]]:
        name = tokens(f"{row.display_name} {row.handle or ''}", prefixes=True)
        body = tokens(" ".join([row.bio, *(row.topics or []), *(row.categories or [])]))
        return name, body

    # -- building and refreshing

    def load(self, rows: Iterable[CatalogRow]) -> None:
        """Build from scratch (a full read of the catalog)."""
        started = time.perf_counter()
        name_pairs: dict[str, list[int]] = {}
        body_pairs: dict[str, list[int]] = {}
        with self.lock:
            for row in rows:
                pos = self._place(row)
                self._set_columns(pos, row)
                name, body = self._texts(row)
                for token in name:
                    name_pairs.setdefault(token, []).append(pos)
                for token in body:
                    body_pairs.setdefault(token, []).append(pos)
                self._see(row.updated_at)
            self.name_postings = {t: np.array(p, dtype=np.int32) for t, p in name_pairs.items()}
            self.body_postings = {t: np.array(p, dtype=np.int32) for t, p in body_pairs.items()}
            self._prepare_orders()
            self.built = True
            self.checked_at = time.monotonic()
            self.build_seconds = time.perf_counter() - started

    def apply(self, rows: Iterable[CatalogRow]) -> int:
        """Apply changed or new creators (a refresh); their text goes to the delta."""
        changed = 0
        with self.lock:
            for row in rows:
                known = self.position.get(row.id)
                fingerprint = hash(repr(row))
                if known is not None and self.indexed_as.get(known) == fingerprint:
                    continue  # re-read inside the overlap window, unchanged
                pos = self._place(row)
                self._set_columns(pos, row)
                self._retext(pos, *self._texts(row))
                self._see(row.updated_at)
                self.indexed_as[pos] = fingerprint
                changed += 1
            if changed:
                self._orders.clear()  # the precomputed sort orders are stale
        return changed

    def needs_compaction(self) -> bool:
        """The text delta has grown past what a search should merge in each time."""
        return len(self.delta_tokens) > max(COMPACT_AT_LEAST, int(self.size * COMPACT_AT_SHARE))

    def engagement_median(self, tier: str | None, category: str | None) -> float | None:
        """The median engagement rate (a share) of listed creators in the tier and category,
        or of the tier alone when fewer than MIN_PEERS share both; None without peers."""
        if tier not in TIERS:
            return None
        with self.lock:
            n = self.size
            peers = (self.tier[:n] == TIERS.index(tier)) & (self.engagement[:n] >= 0)
            peers &= self.followers[:n] >= LISTING_FLOOR
            if category in CATEGORIES:
                same = peers & (
                    (self.category_bits[:n] & np.uint32(1 << CATEGORIES.index(category))) != 0
                )
                if np.count_nonzero(same) >= MIN_PEERS:
                    peers = same
            if np.count_nonzero(peers) < MIN_PEERS:
                return None
            return float(np.median(self.engagement[:n][peers])) / 10_000

    def forget(self, creator_ids: Iterable[str]) -> int:
        """Unlist creators whose profiles no longer exist. A refresh reads changed rows, so
        it never sees a deletion; `discover` calls this when a page's profile is missing."""
        gone = 0
        with self.lock:
            for creator_id in creator_ids:
                pos = self.position.get(creator_id)
                if pos is not None and self.followers[pos] >= 0:
                    self.followers[pos] = -1  # under the listing floor: out of every search
                    self.indexed_as.pop(pos, None)
                    gone += 1
            if gone:
                self._orders.clear()
        return gone

    def _place(self, row: CatalogRow) -> int:
        pos = self.position.get(row.id)
        if pos is None:
            if self.size >= self.capacity:
                self._allocate(self.capacity * 2)
            if self.size >= 1 << POSITION_BITS:
                raise RuntimeError("the discovery index holds at most 16.7 million creators")
            pos = self.size
            self.size += 1
            self.ids.append(row.id)
            self.position[row.id] = pos
        return pos

    def _retext(self, pos: int, name: set[str], body: set[str]) -> None:
        old = self.delta_tokens.get(pos)
        if old is not None:
            for token in old[0]:
                self.delta_name.get(token, set()).discard(pos)
            for token in old[1]:
                self.delta_body.get(token, set()).discard(pos)
        for token in name:
            self.delta_name.setdefault(token, set()).add(pos)
        for token in body:
            self.delta_body.setdefault(token, set()).add(pos)
        self.delta_tokens[pos] = (name, body)
        self.in_delta[pos] = True

    def _see(self, updated_at: datetime) -> None:
        if self.watermark is None or updated_at > self.watermark:
            self.watermark = updated_at

    def refresh_since(self) -> datetime | None:
        """Where the next refresh reads from, or None when it is not due yet."""
        if time.monotonic() - self.checked_at < REFRESH_EVERY_SECONDS:
            return None
        self.checked_at = time.monotonic()
        return (self.watermark or EPOCH) - REFRESH_OVERLAP

    # -- querying

    def _postings(self, token: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """(name positions, body positions) containing `token`, in no particular order: the
        caller only sets mask bits with them. (Sorting them, as np.union1d would to merge in
        the delta, cost 0.5 s a search for a token in 660,000 bios at a million creators.)"""
        empty = np.empty(0, dtype=np.int32)
        name = self.name_postings.get(token, empty)
        body = self.body_postings.get(token, empty)
        if self.delta_tokens:
            name = name[~self.in_delta[name]] if len(name) else name
            body = body[~self.in_delta[body]] if len(body) else body
            extra_name = self.delta_name.get(token)
            extra_body = self.delta_body.get(token)
            if extra_name:
                name = np.concatenate([name, np.fromiter(extra_name, dtype=np.int32)])
            if extra_body:
                body = np.concatenate([body, np.fromiter(extra_body, dtype=np.int32)])
        return name, body

    def _text_scores(self, text: str) -> tuple[Int, npt.NDArray[np.float64]] | None:
        """Positions matching every query token, with a score: the sum over tokens of
        idf x 2 when the token is in the name or handle, idf x 1 when only in the body.
        Boolean masks over the catalog, not sorted set operations: a word in most bios
        (测评) costs a pass over the postings, not a sort of them."""
        wanted = query_tokens(text)
        if not wanted:
            return None
        n = self.size
        matched = np.ones(n, dtype=np.bool_)
        scores = np.zeros(n, dtype=np.float64)
        for token in wanted:
            name, body = self._postings(token)
            in_name = np.zeros(n, dtype=np.bool_)
            in_name[name] = True
            either = in_name.copy()
            either[body] = True
            matched &= either
            count = int(np.count_nonzero(either))
            if count == 0:
                break
            idf = math.log(1 + n / count)
            scores += idf * (either.astype(np.float64) + in_name)
        positions = np.flatnonzero(matched).astype(np.int64)
        return positions, scores[positions]

    def _mask(self, q: DiscoveryQuery, today_day: int) -> Bool:
        n = self.size
        mask = self.followers[:n] >= LISTING_FLOOR
        if q.platform is not None:
            code = self.platforms.find(q.platform)
            mask &= (self.platform[:n] == code) if code >= 0 else False
        if q.tiers:
            mask &= _member(self.tier[:n], [TIERS.index(t) for t in q.tiers], len(TIERS))
        if q.min_followers is not None:
            mask &= self.followers[:n] >= q.min_followers
        if q.max_followers is not None:
            mask &= self.followers[:n] <= q.max_followers
        if q.min_engagement_bp is not None:
            mask &= self.engagement[:n] >= q.min_engagement_bp
        if q.max_engagement_bp is not None:
            mask &= (self.engagement[:n] >= 0) & (self.engagement[:n] <= q.max_engagement_bp)
        if q.categories:
            bits = 0
            for category in set(q.categories):  # a repeated value must not carry a bit
                bits |= 1 << CATEGORIES.index(category)
            mask &= (self.category_bits[:n] & np.uint32(bits)) != 0
        for values, matrix, codes, slots in (
            (q.regions, self.region_codes, self.regions, self.region_slots_used),
            (q.languages, self.language_codes, self.languages, self.language_slots_used),
        ):
            if values:
                # -1 marks an empty slot, so unknown values must not become -1 here
                wanted = {c for c in (codes.find(v) for v in values) if c >= 0}
                hit = np.zeros(n, dtype=np.bool_)
                for slot in range(slots):  # only the slots some creator uses
                    column = matrix[:n, slot]
                    for code in wanted:
                        hit |= column == code
                mask &= hit
        if q.audience_female_min is not None:
            mask &= self.female[:n] >= q.audience_female_min
        if q.audience_female_max is not None:
            mask &= self.female[:n] <= q.audience_female_max
        if q.audience_age is not None and q.audience_age_min is not None:
            mask &= self.age[:n, AGE_BANDS.index(q.audience_age)] >= q.audience_age_min
        if q.audience_region is not None:
            code = self.regions.find(q.audience_region)
            share = q.audience_region_min or 0.0
            hits = (self.audience_region_codes[:n] == code) & (
                self.audience_region_shares[:n] >= share
            )
            mask &= hits.any(axis=1) if code >= 0 else False
        if q.price_format is not None and (q.min_price is not None or q.max_price is not None):
            prices = self.price[:n, FORMATS.index(q.price_format)]
            mask &= prices >= (q.min_price or 0)
            if q.max_price is not None:
                mask &= prices <= q.max_price
        if q.min_quality is not None:
            mask &= self.quality[:n] >= q.min_quality
        if q.vetting_statuses:
            statuses = [VETTING.index(s) for s in q.vetting_statuses]
            mask &= _member(self.vetting[:n], statuses, len(VETTING))
        if q.active_within_days is not None:
            mask &= self.active_day[:n] >= today_day - q.active_within_days
        if q.available is not None:
            mask &= self.available[:n] == q.available
        if q.contact_verified is not None:
            mask &= self.contact_verified[:n] == q.contact_verified
        if q.only_ids is not None:
            keep = np.zeros(n, dtype=np.bool_)
            keep[[self.position[i] for i in q.only_ids if i in self.position]] = True
            mask &= keep
        if q.exclude_ids:
            mask[[self.position[i] for i in q.exclude_ids if i in self.position]] = False
        return np.asarray(mask, dtype=np.bool_)

    def _sort_keys(self, q: DiscoveryQuery, positions: Int, scores: Any) -> Int:
        """An int64 per candidate, smallest first: the sort value in its order, then the
        position (so ties keep a stable order and a cursor is one number)."""
        sort = q.sort
        if sort == "relevance" and scores is None:
            sort = "followers"
        if sort == "relevance":
            primary = -np.round(np.asarray(scores) * 1_000_000).astype(np.int64)
        elif sort == "followers":
            primary = -self.followers[positions]
        elif sort == "engagement":
            primary = -self.engagement[positions].astype(np.int64)  # unknown (-1) last
        elif sort == "quality":
            primary = -self.quality[positions].astype(np.int64)
        else:
            fmt = FORMATS.index(q.price_format or "image_post")
            price = self.price[positions, fmt].astype(np.float64)
            if sort == "price":
                value = price
            else:  # cost per expected engagement: price / (followers x engagement rate)
                engagements = self.followers[positions] * self.engagement[positions] / 10_000
                with np.errstate(divide="ignore", invalid="ignore"):
                    value = np.where(engagements > 0, price / engagements * 1000, np.inf)
            value = np.where(price < 0, np.inf, value)  # no price for the format: last
            primary = np.minimum(np.nan_to_num(value, posinf=MAX_KEY), MAX_KEY).astype(np.int64)
        primary = np.clip(primary + MAX_KEY // 2, 0, MAX_KEY)  # keep negatives in range
        return (primary << POSITION_BITS) | positions

    def search(self, q: DiscoveryQuery, today: datetime) -> DiscoveryResult:
        with self.lock:
            mask = self._mask(q, (today - EPOCH).days)
            scores = None
            if q.text and (found := self._text_scores(q.text)) is not None:
                matched, matched_scores = found
                keep = mask[matched]
                positions, scores = matched[keep], matched_scores[keep]
                mask = np.zeros(self.size, dtype=np.bool_)
                mask[positions] = True
            else:
                positions = np.flatnonzero(mask)
            total = len(positions)
            facets = self._facets(mask) if q.facets else None
            after = decode_cursor(q.cursor, q.sort) if q.cursor else None
            if scores is None and total > STATIC_ORDER_ABOVE:
                # Most of the catalog matched: walk the sort's precomputed order instead of
                # sorting the matches.
                keys_in_order, order = self._static_order(q)
                hits = mask[order]
                hit_keys = keys_in_order[hits]
                start = 0 if after is None else int(np.searchsorted(hit_keys, after, "right"))
                page_keys = hit_keys[start : start + q.limit + 1]
                page_positions = order[hits][start : start + q.limit + 1]
                return self._result(q, page_positions, page_keys, total, facets)
            keys = self._sort_keys(q, positions, scores)
            if after is not None:
                later = keys > after
                keys, positions = keys[later], positions[later]
                if scores is not None:
                    scores = scores[later]
            take = min(q.limit + 1, len(keys))
            if take < len(keys):
                picked = np.argpartition(keys, take - 1)[:take]
            else:
                picked = np.arange(len(keys))
            picked = picked[np.argsort(keys[picked], kind="stable")]
            return self._result(q, positions[picked], keys[picked], total, facets)

    def _result(
        self,
        q: DiscoveryQuery,
        positions: Int,
        keys: Int,
        total: int,
        facets: Facets | None,
    ) -> DiscoveryResult:
        """The page from up to limit + 1 candidates in order (one more means a next page)."""
        more = len(positions) > q.limit
        positions, keys = positions[: q.limit], keys[: q.limit]
        ids = [self.ids[int(p)] for p in positions]
        cursor = encode_cursor(q.sort, int(keys[-1])) if more and len(keys) else None
        return DiscoveryResult(ids, cursor, total, facets)

    def _prepare_orders(self) -> None:
        """Sort the catalog once for every sort that does not depend on a text query, so no
        search pays the first sort of a million keys (about 0.2 s each)."""
        for sort in ("followers", "engagement", "quality"):
            self._static_order(DiscoveryQuery(sort=sort))
        for fmt in FORMATS:
            for sort in ("price", "cpe"):
                self._static_order(DiscoveryQuery(sort=sort, price_format=fmt))

    def _static_order(self, q: DiscoveryQuery) -> tuple[Int, Int]:
        """(sorted keys, positions in that order) of the whole catalog for a sort that does
        not depend on a text query; cached until the catalog changes."""
        # relevance without text sorts by followers; only price sorts depend on the format
        sort = "followers" if q.sort == "relevance" else q.sort
        name = f"{sort}:{q.price_format or 'image_post'}" if sort in ("price", "cpe") else sort
        cached = self._orders.get(name)
        if cached is None or len(cached[1]) != self.size:
            everyone = np.arange(self.size, dtype=np.int64)
            keys = self._sort_keys(q, everyone, None)
            order = np.argsort(keys, kind="stable")
            cached = self._orders[name] = (keys[order], order)
        return cached

    def _facets(self, mask: Bool) -> Facets:
        n = self.size
        tiers = np.bincount(self.tier[:n][mask], minlength=len(TIERS))
        # Count each combination of categories once, then spread the counts over its bits:
        # one pass over the matches instead of one per category.
        combos = np.bincount(self.category_bits[:n][mask])
        present = np.flatnonzero(combos)
        weights = combos[present]
        per_category = [int(weights[(present >> i) & 1 == 1].sum()) for i in range(len(CATEGORIES))]
        region_counts = np.zeros(len(self.regions.names) + 1, dtype=np.int64)
        for slot in range(self.region_slots_used):
            column = self.region_codes[:n, slot][mask] + 1  # 0 = an empty slot
            region_counts += np.bincount(column, minlength=len(region_counts))
        region_counts = region_counts[1:]
        top = np.argsort(-region_counts, kind="stable")[:20]
        return Facets(
            tier={TIERS[i]: int(tiers[i]) for i in range(1, len(TIERS))},
            category={c: per_category[i] for i, c in enumerate(CATEGORIES) if per_category[i]},
            region={self.regions.names[i]: int(region_counts[i]) for i in top if region_counts[i]},
        )

    def similar_to(self, creator_id: str, limit: int) -> list[str]:
        """Creators most like this one: sharing its categories, in its tier or the next,
        ranked by how many categories, languages and regions they share and how close their
        audience's gender split and engagement are."""
        with self.lock:
            pos = self.position.get(creator_id)
            if pos is None:
                return []
            n = self.size
            listed = self.followers[:n] >= LISTING_FLOOR
            bits = self.category_bits[pos]
            candidates = np.flatnonzero(
                listed
                & ((self.category_bits[:n] & bits) != 0)
                & (np.abs(self.tier[:n].astype(np.int16) - int(self.tier[pos])) <= 1)
            )
            candidates = candidates[candidates != pos]
            if len(candidates) == 0:
                return []
            shared = np.unpackbits(
                (self.category_bits[candidates] & bits).astype("<u4").view(np.uint8).reshape(-1, 4),
                axis=1,
            ).sum(axis=1)
            score = shared * 3.0
            for matrix in (self.language_codes, self.region_codes):
                mine = matrix[pos][matrix[pos] >= 0]
                if len(mine):
                    score += np.isin(matrix[candidates], mine).any(axis=1)
            female = self.female[pos]
            if not np.isnan(female):
                gap = np.abs(np.nan_to_num(self.female[candidates], nan=0.5) - female)
                score += 1 - np.minimum(gap * 2, 1)
            if self.engagement[pos] > 0:
                ratio = np.maximum(self.engagement[candidates], 0) / self.engagement[pos]
                with np.errstate(divide="ignore"):
                    closeness = 1 - np.minimum(np.abs(np.log(ratio)), 1)
                score += np.where(ratio > 0, closeness, 0)
            order = np.lexsort((candidates, -score))[:limit]
            return [self.ids[int(candidates[i])] for i in order]
