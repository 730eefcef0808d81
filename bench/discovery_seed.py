"""Bulk seeding for bench/discovery.py: N creators (a `users` row and a `creator_profiles`
row each) drawn from the sandbox world, inserted without the ORM.

Rows are generated in worker processes (multiprocessing over every core; the world's
generator costs about 0.1 ms per account) and inserted by the parent in batches: sqlite3
`executemany` on SQLite, `COPY ... FROM STDIN` on PostgreSQL. Values are stored the way the
app's SQLAlchemy types store them: JSON as `json.dumps` text, timestamps on SQLite as naive
UTC "YYYY-MM-DD HH:MM:SS.ffffff", booleans as 0/1 on SQLite. Everything but the ids (which are
`pappus.kit.ids.new_id`, time-ordered and random) follows from the seed.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from api_workflow import PASSWORD, libpq_url
from harness import Progress

from pappus.kit.ids import new_id
from pappus.sandbox import texts
from pappus.sandbox import world as w

CHUNK = 5_000  # creators generated per task and inserted per batch
LISTING_FLOOR = 1_000  # creators under 1,000 followers are not listed in discovery
USER_COLUMNS = (
    "id",
    "email",
    "password_hash",
    "kind",
    "staff_role",
    "display_name",
    "is_active",
    "created_at",
)
PROFILE_COLUMNS = (
    *("id", "user_id", "display_name", "bio", "categories", "regions", "languages", "formats"),
    *("primary_platform", "handle", "followers", "engagement_rate_bp", "audience_quality_score"),
    *("audience", "topics", "last_active_at", "vetting_status", "rate_card", "contact_email"),
    *("available", "created_at", "updated_at"),
)
# Price per follower of one piece of content, in minor units (fen): a 10,000-follower
# creator asks about 1,000 to 3,000 CNY for an image post.
FORMAT_PRICE = {
    "image_post": 1.0,
    "short_video": 1.6,
    "long_video": 2.6,
    "live_stream": 3.0,
    "story": 0.5,
}
FORMAT_WEIGHTS = {
    "image_post": 0.9,
    "short_video": 0.6,
    "long_video": 0.2,
    "live_stream": 0.15,
    "story": 0.25,
}
VETTING = (("approved", 0.70), ("unvetted", 0.15), ("pending", 0.10), ("flagged", 0.05))
ACTIVE_DAYS = 120  # last_active_at lies within this many days before the run


@dataclass(frozen=True)
class SeedSpec:
    creators: int
    seed: int
    now: datetime  # the run's present, UTC
    postgres: bool
    password_hash: str


def cheap_password_hash() -> str:
    """One argon2 hash with cheap parameters, shared by every seeded creator (they never log
    in; a million real hashes would take days)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


def creator_email(index: int) -> str:
    return f"creator{index}@bench.pappus.dev"


def _timestamp(moment: datetime, postgres: bool) -> str:
    # SQLAlchemy's DateTime storage format on SQLite (naive UTC); timestamptz text for COPY.
    if postgres:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f+00")
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _weighted_sample(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    pool = dict(weights)
    picked = []
    for _ in range(min(k, len(pool))):
        choice = rng.choices(list(pool), weights=list(pool.values()))[0]
        picked.append(choice)
        del pool[choice]
    return picked


@lru_cache(maxsize=4)
def world_spec(seed: int, creators: int, today: date) -> w.WorldSpec:
    return w.WorldSpec(seed=seed, accounts=creators, today=today)


def creator_rows(spec: SeedSpec, index: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The `users` row and the `creator_profiles` row of creator `index`."""
    world = world_spec(spec.seed, spec.creators, spec.now.date())
    acc = w.account(world, index)
    aud = w.audience(world, acc)
    rng = random.Random(spec.seed * 1_000_003 + index)
    categories = [acc.category] + ([acc.secondary_category] if acc.secondary_category else [])
    topics = rng.sample(texts.TOPICS[acc.category], rng.randint(2, 5))
    if acc.secondary_category and rng.random() < 0.5:
        extra = rng.choice(texts.TOPICS[acc.secondary_category])
        if extra not in topics:
            topics.append(extra)
    formats = _weighted_sample(rng, FORMAT_WEIGHTS, rng.choice((1, 1, 2, 2, 3)))
    per_follower = rng.uniform(10, 30)  # fen per follower for an image post
    rate_card = [
        {
            "format": fmt,
            "amount": max(20_000, int(round(acc.followers * per_follower * FORMAT_PRICE[fmt], -2))),
            "currency": "CNY",
        }
        for fmt in formats
    ]
    if rng.random() < 0.10:
        quality = None
    elif acc.fraud:
        quality = rng.randint(40, 70)
    else:
        quality = rng.randint(55, 100)
    vetting = rng.choices([v for v, _ in VETTING], weights=[p for _, p in VETTING])[0]
    audience = {
        "gender": {"female": aud.female_share, "male": round(1 - aud.female_share, 4)},
        "age_bands": aud.age_bands,
        "top_regions": aud.top_regions,
        "interests": aud.interests,
    }
    created = spec.now - timedelta(seconds=rng.randint(86_400, 700 * 86_400))
    updated = created + (spec.now - created) * rng.random()
    active = spec.now - timedelta(seconds=rng.randint(0, ACTIVE_DAYS * 86_400))
    pg = spec.postgres
    user_id, creator_id = new_id("usr"), new_id("cr")
    email = creator_email(index)
    user = (
        *(user_id, email, spec.password_hash, "creator", None, acc.display_name),
        *(True if pg else 1, _timestamp(created, pg)),
    )
    profile = (
        *(creator_id, user_id, acc.display_name, acc.bio, json.dumps(categories)),
        *(json.dumps([acc.region]), json.dumps([acc.language]), json.dumps(formats)),
        *("sandbox", acc.handle, acc.followers, round(acc.engagement_rate * 10_000), quality),
        *(json.dumps(audience), json.dumps(topics), _timestamp(active, pg), vetting),
        *(json.dumps(rate_card), email, rng.random() < 0.9 if pg else int(rng.random() < 0.9)),
        *(_timestamp(created, pg), _timestamp(updated, pg)),
    )
    return user, profile


def _chunk(task: tuple[SeedSpec, int, int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    spec, start, stop = task
    users, profiles = [], []
    for index in range(start, stop):
        user, profile = creator_rows(spec, index)
        users.append(user)
        profiles.append(profile)
    return users, profiles


def _quiet_worker() -> None:
    """Pool workers leave Ctrl-C and SIGTERM to the parent (which stops them): the parent's
    SIGTERM handler raises KeyboardInterrupt, which could leave a worker holding the pool's
    queue lock."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _chunks(spec: SeedSpec, processes: int) -> Iterator[tuple[list[Any], list[Any]]]:
    tasks = [(spec, s, min(s + CHUNK, spec.creators)) for s in range(0, spec.creators, CHUNK)]
    if processes <= 1 or len(tasks) == 1:
        yield from map(_chunk, tasks)
        return
    # fork: the workers inherit the imported modules; the bench directory is on sys.path.
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_quiet_worker)
    try:
        yield from pool.imap(_chunk, tasks)
    except BaseException:  # an error, Ctrl-C, or the caller stopped early
        pool.terminate()
        pool.join()
        raise
    pool.close()  # every task is done: the workers exit by themselves
    pool.join()


def seed_creators(url: str, spec: SeedSpec, label: str, processes: int) -> float:
    """Insert the creators; seconds it took (ANALYZE included)."""
    progress = Progress(f"{label}: seeding creators", spec.creators, " creators")
    progress.update(0)
    started = time.perf_counter()
    if spec.postgres:
        _seed_postgres(url, spec, processes, progress)
    else:
        _seed_sqlite(url, spec, processes, progress)
    elapsed = time.perf_counter() - started
    progress.done(f"in {elapsed:.0f} s ({spec.creators / elapsed:,.0f}/s, ANALYZE included)")
    return elapsed


def _insert_sql(table: str, columns: tuple[str, ...], mark: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


def _seed_sqlite(url: str, spec: SeedSpec, processes: int, progress: Progress) -> None:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")  # as the app opens it
        connection.execute("PRAGMA synchronous=OFF")  # a throw-away file: no fsync while loading
        connection.execute("PRAGMA cache_size=-262144")  # 256 MiB for the index B-trees
        users_sql = _insert_sql("users", USER_COLUMNS, "?")
        profiles_sql = _insert_sql("creator_profiles", PROFILE_COLUMNS, "?")
        done = 0
        for users, profiles in _chunks(spec, processes):
            connection.execute("BEGIN")
            connection.executemany(users_sql, users)
            connection.executemany(profiles_sql, profiles)
            connection.execute("COMMIT")
            done += len(users)
            progress.update(done)
        progress.update(done, "ANALYZE")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _seed_postgres(url: str, spec: SeedSpec, processes: int, progress: Progress) -> None:
    import psycopg

    users_copy = f"COPY users ({', '.join(USER_COLUMNS)}) FROM STDIN"
    profiles_copy = f"COPY creator_profiles ({', '.join(PROFILE_COLUMNS)}) FROM STDIN"
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("SET synchronous_commit = off")  # a throw-away database
        done = 0
        for users, profiles in _chunks(spec, processes):
            with connection.transaction(), connection.cursor() as cursor:
                with cursor.copy(users_copy) as copy:
                    for row in users:
                        copy.write_row(row)
                with cursor.copy(profiles_copy) as copy:
                    for row in profiles:
                        copy.write_row(row)
            done += len(users)
            progress.update(done)
        progress.update(done, "VACUUM ANALYZE")
        # What autovacuum would do soon after such a load: statistics, visibility map.
        connection.execute("VACUUM (ANALYZE) users")
        connection.execute("VACUUM (ANALYZE) creator_profiles")
