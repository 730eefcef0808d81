"""The two-tenant world of the authorization suite, and how its route table is sent.

The world is built once per backend through the API (registrations, campaigns, an order in
every stage, wallets) into a database of its own. Every test starts from it: after a test that
changed anything (every row of every table is compared), the built rows are put back.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from pappus.accounts import security
from pappus.accounts.principal import SCOPES
from pappus.app import create_app
from pappus.config import Settings
from pappus.db import Base, Database
from pappus.kit.clock import now
from pappus.migrate import upgrade
from tests.fixtures.builders import World, ok

API = "/api/v1"
OK = "ok"  # a 2xx answer
NOT_FOUND = "404"  # 404 not_found, the same answer an id of nothing gets
DENIED = "403|404"  # refused either way (a creator on a brand-only action)
ALL_SCOPES: tuple[str, ...] = tuple(sorted(SCOPES))
POSTGRES_URL = os.environ.get(
    "PAPPUS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def key_name(scopes: tuple[str, ...] | frozenset[str]) -> str:
    """The caller name of organization A's API key holding exactly `scopes`."""
    return "key[" + ",".join(sorted(scopes)) + "]"


# A scope that another one implies: x:write lets a key read what it acts on.
IMPLIED_BY = {"orders:read": {"orders:write"}, "campaigns:read": {"campaigns:write"}}


def missing(scope: str) -> frozenset[str]:
    """Every scope except `scope` and the scopes that imply it."""
    return frozenset(ALL_SCOPES) - {scope} - IMPLIED_BY.get(scope, set())


def key_scope_sets() -> list[frozenset[str]]:
    """Every key organization A gets: all scopes, each scope alone, each scope missing, and
    orders:read+orders:write (order writes also read the order)."""
    sets = {frozenset(ALL_SCOPES), frozenset({"orders:read", "orders:write"})}
    for scope in ALL_SCOPES:
        sets.add(frozenset({scope}))
        sets.add(missing(scope))
    return sorted(sets, key=sorted)


@dataclass(frozen=True)
class Built:
    """What the tests address: object ids and emails by handle, bearer tokens by caller."""

    ids: dict[str, str]
    tokens: dict[str, str]


def _post(world: World, path: str, who: Any, body: Any = None, status: int = 200) -> Any:
    return ok(world.client.post(API + path, json=body, headers=who.headers), status)


def build_world(world: World) -> Built:
    """Organization A (every role, keys of every scope, campaigns and orders in every stage,
    all with creator A) and organization B (its own campaign, application, invitation and
    order, all with creator B), plus a platform reviewer. Each of A's members also owns an
    organization of their own (the builders make them so): roles are per organization."""
    ids: dict[str, str] = {}
    tokens: dict[str, str] = {}

    # -- people ---------------------------------------------------------------------------
    owner = world.brand("Acme Beauty")
    people = {
        "owner": owner,
        "admin": world.member(owner, "admin"),
        "member": world.member(owner, "member"),
        "viewer": world.member(owner, "viewer"),
        "owner_b": world.brand("Bolt Cosmetics"),
        "creator_a": world.creator(followers=30_000),
        "creator_b": world.creator(followers=40_000),
        "staff": world.staff("reviewer"),
    }
    extra_member = world.member(owner, "member")  # target of member management
    co_owner = world.member(owner, "owner")  # an owner other than the acting one
    joiner = world.brand("Joiner Co")  # a brand account outside organization A
    tokens.update({name: who.token for name, who in people.items()})
    owner_b = people["owner_b"]
    creator_a, creator_b = people["creator_a"], people["creator_b"]
    ids.update(
        org_a=str(owner.organization_id),
        org_b=str(owner_b.organization_id),
        owner_user=str(owner.user_id),
        admin_user=str(people["admin"].user_id),
        member_user=str(people["member"].user_id),
        viewer_user=str(people["viewer"].user_id),
        owner_email=owner.email,
        extra_member=str(extra_member.user_id),
        co_owner=str(co_owner.user_id),
        joiner_email=joiner.email,
        admin_email=people["admin"].email,
        creator_a=str(creator_a.creator_id),
        creator_b=str(creator_b.creator_id),
    )

    # -- API keys -------------------------------------------------------------------------
    for scopes in key_scope_sets():
        key = world.api_key(owner, sorted(scopes))
        tokens[key_name(scopes)], ids[key_name(scopes)] = key.token, key.extra["id"]
    ids["key_spare"] = world.api_key(owner, ["orders:read"]).extra["id"]
    revoked = world.api_key(owner, list(ALL_SCOPES))
    ok(
        world.client.delete(
            f"{API}/organizations/{owner.organization_id}/api-keys/{revoked.extra['id']}",
            headers=owner.headers,
        )
    )
    tokens["key_revoked"] = revoked.token
    tokens["key_b"] = world.api_key(owner_b, list(ALL_SCOPES)).token

    # -- organization A's money: a deposit besides the funding (the builders fund brands) ----
    ids["deposit"] = _post(
        world,
        "/wallet/deposits",
        owner,
        {"organization_id": owner.organization_id, "amount": 300_000, "currency": "CNY"},
        201,
    )["id"]

    # -- organization A's shortlist (with creator A on it) and saved search ----------------
    ids["shortlist"] = _post(world, "/shortlists", owner, {"name": "Acme picks"}, 201)["id"]
    ok(
        world.client.put(
            f"{API}/shortlists/{ids['shortlist']}/creators/{creator_a.creator_id}",
            headers=owner.headers,
        )
    )
    ids["saved_search"] = _post(
        world,
        "/saved-searches",
        owner,
        {"name": "Beauty", "filters": {"category": ["beauty"]}},
        201,
    )["id"]

    # -- vetting: both creators scored; creator A has an open appeal ---------------------
    from pappus.vetting.models import VettingReport

    with world.db.unit_of_work() as session:
        for who in (creator_a, creator_b):
            report = VettingReport(
                creator_id=who.creator_id,
                score=72,
                flagged=False,
                red_flags=[],
                components=[],
                authenticity={},
                version=1,
            )
            session.add(report)
            session.flush()
    ids["appeal"] = _post(
        world, "/creators/me/vetting/appeals", creator_a, {"message": "My fans are real"}, 201
    )["id"]

    # -- organization A's campaigns, application and invitation -----------------------------
    campaign_open = world.campaign(owner, name="Acme open brief")
    ids["campaign_open"] = campaign_open["id"]
    ids["app_pending"] = world.application(creator_a, campaign_open)["id"]
    campaign_private = world.campaign(owner, name="Acme private brief", visibility="invite_only")
    ids["campaign_private"] = campaign_private["id"]
    ids["inv_pending"] = _post(
        world,
        f"/campaigns/{campaign_private['id']}/invitations",
        owner,
        {"creator_id": creator_a.creator_id, "offer_amount": 400_000},
        201,
    )["id"]
    ids["campaign_draft"] = world.campaign(owner, open_it=False, name="Acme draft brief")["id"]
    campaign_closed = world.campaign(owner, name="Acme closed brief")
    _post(world, f"/campaigns/{campaign_closed['id']}/close", owner)
    ids["campaign_closed"] = campaign_closed["id"]

    # -- organization A's orders, one per stage ---------------------------------------------
    ids["pack"] = "cn-advertising-law"
    ids["order_new"] = world.order(owner, creator_a)[0]
    ids["order_review"] = world.order(owner, creator_a)[0]
    ids["draft_review"] = world.submit_draft(ids["order_review"], creator_a)
    ids["order_approved"] = world.order(owner, creator_a)[0]
    world.approve(
        ids["order_approved"], world.submit_draft(ids["order_approved"], creator_a), owner
    )
    ids["order_published"] = world.order(owner, creator_a)[0]
    draft = world.submit_draft(ids["order_published"], creator_a)
    world.approve(ids["order_published"], draft, owner)
    world.publish(ids["order_published"], creator_a)
    ok(world.metrics(ids["order_published"], people["staff"], views=1_000, likes=50), 201)
    ids["link"] = _post(
        world,
        f"/orders/{ids['order_published']}/links",
        owner,
        {"destination": "https://shop.example/p/1"},
        201,
    )["id"]
    ids["order_disputed"] = world.order(owner, creator_a)[0]
    ids["dispute"] = _post(
        world, f"/orders/{ids['order_disputed']}/disputes", owner, {"reason": "late"}, 201
    )["id"]

    # -- organization B's own objects, all with creator B -----------------------------------
    campaign_b = world.campaign(owner_b, name="Bolt open brief")
    ids["campaign_b"] = campaign_b["id"]
    ids["app_b"] = world.application(creator_b, campaign_b)["id"]
    campaign_b_private = world.campaign(owner_b, name="Bolt private", visibility="invite_only")
    ids["inv_b"] = _post(
        world,
        f"/campaigns/{campaign_b_private['id']}/invitations",
        owner_b,
        {"creator_id": creator_b.creator_id, "offer_amount": 300_000},
        201,
    )["id"]
    ids["order_b"] = world.order(owner_b, creator_b)[0]
    ids["draft_b"] = world.submit_draft(ids["order_b"], creator_b)
    return Built(ids=ids, tokens=tokens)


# -- the world's database, restored after every test that changed it -----------------------


def new_database_url(backend: str, workdir: Path) -> str:
    """An empty, migrated database of its own on `backend`."""
    name = f"pappus_authz_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        url = f"sqlite:///{workdir / name}.db"
    else:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def cheap_password_hashing() -> Iterator[None]:
    """Hash the world's passwords with argon2's cheapest parameters: logins still verify
    against real hashes, but the world's dozens of accounts take milliseconds, not seconds.
    (Verification reads the parameters from each hash.)"""
    original = getattr(security, "_hasher", None)
    if not isinstance(original, PasswordHasher):  # hashing changed: build at its real cost
        yield
        return
    security._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        yield
    finally:
        security._hasher = original


class Env:
    """The world in its database, with an app and a client; `restore` puts back the rows it
    had when it was built (every table is small)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = Database(url)
        app = create_app(Settings(), database=self.db, migrate_on_start=False, run_jobs=False)
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()
        with cheap_password_hashing():
            built = build_world(World(self.client, self.db))
        self.ids = built.ids
        self.tokens = built.tokens
        self._pristine = self._rows()
        self.baseline = self.fingerprint()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.db.dispose()
        drop_database(self.url)

    def _rows(self) -> dict[str, list[dict[str, Any]]]:
        with self.db.engine.connect() as conn:
            return {
                table.name: [dict(row._mapping) for row in conn.execute(select(table))]
                for table in Base.metadata.sorted_tables
            }

    def restore(self) -> None:
        """Put the world back as it was built."""
        tables = Base.metadata.sorted_tables
        with self.db.engine.begin() as conn:
            for table in reversed(tables):
                conn.execute(table.delete())
            for table in tables:
                if self._pristine[table.name]:
                    conn.execute(table.insert(), self._pristine[table.name])
        assert self.fingerprint() == self.baseline

    def request(
        self,
        method: str,
        path: str,
        caller: str | None,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if caller is not None:
            sent["Authorization"] = f"Bearer {self.tokens[caller]}"
        return self.client.request(method, API + path, json=json, params=params, headers=sent)

    def get(self, path: str, caller: str, **params: str) -> Any:
        return ok(self.request("GET", path, caller, params=params or None))

    def fingerprint(self) -> dict[str, str]:
        """A digest of every row of every table, by table: equal digests, unchanged data."""
        tables = Base.metadata.sorted_tables
        if not self.db.is_sqlite:  # one round trip instead of one per table
            # jsonb: json columns compare by value, not by the text they were sent as
            row = "to_jsonb(t)::text"
            digest = f"md5(coalesce(string_agg({row}, ',' ORDER BY {row}), ''))"
            query = "SELECT " + ", ".join(
                f'(SELECT {digest} FROM "{table.name}" AS t) AS "{table.name}"' for table in tables
            )
            with self.db.engine.connect() as conn:
                return dict(conn.execute(text(query)).one()._mapping)
        digests = {}
        with self.db.engine.connect() as conn:
            for table in tables:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


# -- rows of the route table and how to send them ----------------------------------------


@dataclass(frozen=True)
class Route:
    """One request to one route: its targets in the world and who may send it."""

    method: str
    path: str  # the app's path template under /api/v1
    expect: Mapping[str, str]  # caller -> outcome; callers left out are not exercised
    targets: Mapping[str, str] = field(default_factory=dict)  # path parameter -> world handle
    body: Any = None  # JSON; "@handle" strings are filled from the world, "@now" with now
    query: Mapping[str, str] | None = None
    scope: str | None = None  # the API-key scope this route needs
    key_scopes: tuple[str, ...] = ALL_SCOPES  # what the "key" caller holds
    ghost: tuple[str, ...] | None = None  # handles replaced by made-up ids (default: all)
    note: str = ""
    public: bool = False
    effect: bool = True  # an allowed call changes stored data

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def label(self) -> str:
        shown = [*self.targets.values(), *([self.note] if self.note else [])]
        return f"{self.method} {self.path}" + (f" [{', '.join(shown)}]" if shown else "")

    def token_of(self, caller: str | None) -> str | None:
        if caller == "key":
            return key_name(self.key_scopes)
        if caller == "key_missing":
            assert self.scope is not None, self.label
            return key_name(missing(self.scope))
        return caller


_ID = re.compile(r"[a-z]+_[0-9a-f]{28}")


def ghost_id(value: str) -> str:
    """A well-formed id of the same kind that belongs to nothing."""
    prefix = value.split("_", 1)[0]
    return f"{prefix}_{'0' * 28}"


def _handles(value: Any) -> set[str]:
    if isinstance(value, str) and value.startswith("@") and value != "@now":
        return {value[1:]}
    if isinstance(value, Mapping):
        return set().union(*(_handles(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_handles(v) for v in value))
    return set()


def fill(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return now().isoformat() if value == "@now" else ids[value[1:]]
    if isinstance(value, Mapping):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def call(
    env: Env,
    row: Route,
    caller: str | None,
    *,
    ghost: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    ids = dict(env.ids)
    if ghost:
        handles = row.ghost or {*row.targets.values(), *_handles(row.body), *_handles(row.query)}
        ids.update({h: ghost_id(ids[h]) for h in handles if _ID.fullmatch(ids[h])})
    path = row.path.format(**{param: ids[handle] for param, handle in row.targets.items()})
    return env.request(
        row.method,
        path,
        row.token_of(caller),
        json=fill(row.body, ids),
        params=fill(row.query, ids),
        headers=headers,
    )


def problem(response: httpx.Response) -> dict[str, Any]:
    """The stable part of a problem+json answer (everything but `instance`)."""
    assert response.headers["content-type"].startswith("application/problem+json"), (
        response.status_code,
        response.text,
    )
    body = response.json()
    return {k: body.get(k) for k in ("type", "title", "status", "code", "detail")}


def assert_outcome(response: httpx.Response, outcome: str) -> None:
    seen = (response.status_code, response.text[:300])
    if outcome == OK:
        assert response.is_success, seen
        return
    found = problem(response)
    if outcome == NOT_FOUND:
        assert (found["status"], found["code"]) == (404, "not_found"), seen
    elif outcome == DENIED:
        assert found["status"] in {403, 404}, seen
    else:  # "<status>:<code>"
        status, code = outcome.split(":")
        assert (found["status"], found["code"]) == (int(status), code), seen
    assert response.status_code == found["status"], seen


def assert_refused(env: Env, row: Route, caller: str, outcome: str) -> None:
    """The caller is refused as `outcome` says, learns nothing, and changes nothing."""
    response = call(env, row, caller)
    assert_outcome(response, outcome)
    if outcome == NOT_FOUND:
        # the answer for a real object of another tenant is the one for an id of nothing
        assert problem(response) == problem(call(env, row, caller, ghost=True))
    if row.write:
        assert changed_tables(env.baseline, env.fingerprint()) == []
