"""Authorization of every endpoint, for every role, against another tenant's objects.

A member of one organization can never read or change another's campaigns, orders or money.

`ROUTES` (tests/accounts/authz_routes.py) lists every /api/v1 route with who may call it, and
`test_route_table_covers_every_route` fails when the app gains a route the table does not list,
so a new endpoint cannot arrive without its authorization rules. Each row names its targets in
the world (tests/accounts/authz_world.py): organization A's objects, with organization B as the
other tenant. The callers:

    owner_b, key_b   organization B's owner, and an API key of B holding every scope
    creator_b        a creator who takes part in none of A's objects
    viewer, member, admin, owner
                     organization A's roles
    key              an API key of A holding the row's scopes
    key_missing      an API key of A holding every scope but the one the row needs
    creator_a        the creator who takes part in A's application, invitation and orders
    staff            a platform reviewer

Outcomes: OK (2xx); NOT_FOUND (404 not_found, and exactly the answer a made-up id gets, so that
existence is not revealed); "403:<code>"; DENIED (403 or 404, for a creator on a brand-only
action). A refused write must change nothing: every row of every table is compared before and
after. Allowed writes must change something (the world is restored after each test).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from pappus.app import API_PREFIX, create_app
from pappus.config import Settings
from pappus.kit.clock import clock
from pappus.ledger.payments import SIGNATURE_HEADER
from tests.accounts.authz_routes import CALLERS, KNOWN_BUGS, ROLES, ROUTES
from tests.accounts.authz_world import (
    OK,
    Env,
    Route,
    assert_refused,
    call,
    changed_tables,
    fill,
    problem,
)
from tests.fixtures.builders import World

# -- the matrix -----------------------------------------------------------------------------


def _lowest_allowed_role(row: Route) -> str | None:
    return next((r for r in ROLES if row.expect.get(r) == OK), None)


def _cases(kind: str) -> list[Any]:
    params = []
    for row in ROUTES:
        for caller, outcome in row.expect.items():
            allowed = outcome == OK
            if kind == "refused" and allowed:
                continue
            if kind == "read" and (not allowed or row.write):
                continue
            if kind == "write":
                if not allowed or not row.write:
                    continue
                # roles are ordered: the lowest allowed role stands for those above it
                if caller in ROLES and caller != _lowest_allowed_role(row):
                    continue
            bug = KNOWN_BUGS.get((row.label, caller))
            marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
            params.append(
                pytest.param(row, caller, outcome, id=f"{row.label} as {caller}", marks=marks)
            )
    return params


def _app_routes() -> set[tuple[str, str]]:
    """(method, path) of every /api/v1 route the app serves."""
    app = create_app(Settings(), migrate_on_start=False, run_jobs=False)
    found: set[tuple[str, str]] = set()

    def walk(routes: Iterable[Any]) -> None:
        for item in routes:
            nested = getattr(item, "effective_route_contexts", None)  # FastAPI's included routers
            if callable(nested):
                walk(nested())
                continue
            path = getattr(item, "path", None) or ""
            if path.startswith(API_PREFIX + "/"):
                methods = getattr(item, "methods", None) or ()
                found.update((m, path[len(API_PREFIX) :]) for m in methods if m != "HEAD")

    walk(app.routes)
    documented = {
        (method.upper(), path[len(API_PREFIX) :])
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(API_PREFIX)
        for method in operations
    }
    assert documented <= found, f"routes missed by the walk: {sorted(documented - found)}"
    return found


def test_route_table_covers_every_route() -> None:
    served = _app_routes()
    listed = {(row.method, row.path) for row in ROUTES}
    assert served - listed == set(), "add these routes to ROUTES with their authorization rules"
    assert listed - served == set(), "these ROUTES rows name routes the app does not serve"


def test_every_known_bug_names_a_case_of_the_table() -> None:
    cases = {(row.label, caller) for row in ROUTES for caller in row.expect}
    assert set(KNOWN_BUGS) - cases == set()


def test_every_protected_route_is_exercised_for_every_kind_of_caller() -> None:
    for method, path in {(row.method, row.path) for row in ROUTES if not row.public}:
        callers = {
            c for row in ROUTES if (row.method, row.path) == (method, path) for c in row.expect
        }
        missing = {c for c in CALLERS if c != "key_missing"} - callers
        assert missing == set(), f"{method} {path} has no expectation for {sorted(missing)}"


@pytest.mark.parametrize(("row", "caller", "outcome"), _cases("refused"))
def test_refused(authz: Env, row: Route, caller: str, outcome: str) -> None:
    assert_refused(authz, row, caller, outcome)


@pytest.mark.parametrize(("row", "caller", "outcome"), _cases("read"))
def test_allowed_read(authz: Env, row: Route, caller: str, outcome: str) -> None:
    response = call(authz, row, caller)
    assert response.status_code == 200, response.text
    if row.path.endswith("}"):  # an object by id: it is that object
        last = row.path.rsplit("{", 1)[1].rstrip("}")
        assert response.json()["id"] == authz.ids[row.targets[last]]


@pytest.mark.parametrize(("row", "caller", "outcome"), _cases("write"))
def test_allowed_write(authz: Env, row: Route, caller: str, outcome: str) -> None:
    response = call(authz, row, caller)
    assert response.is_success, (response.status_code, response.text)
    if row.effect:
        assert changed_tables(authz.baseline, authz.fingerprint()) != []


# -- without valid credentials ----------------------------------------------------------------

PROTECTED = {(row.method, row.path): row for row in reversed(ROUTES) if not row.public}
BAD_CREDENTIALS = (
    ("no Authorization header", None, "missing_token"),
    ("a Basic credential", "Basic dXNlcjpwYXNzd29yZA==", "missing_token"),
    ("an unknown access token", "Bearer pat_not-a-token-we-issued", "invalid_token"),
    ("an unknown API key", "Bearer pk_live_not-a-key-we-issued", "invalid_api_key"),
    ("a revoked API key", "@key_revoked", "invalid_api_key"),
    ("an oversized token", "Bearer " + "x" * 600, "invalid_token"),
)


@pytest.mark.parametrize("row", list(PROTECTED.values()), ids=lambda row: row.label)
def test_protected_route_refuses_missing_or_bad_credentials(authz: Env, row: Route) -> None:
    for what, credential, code in BAD_CREDENTIALS:
        if credential == "@key_revoked":
            credential = f"Bearer {authz.tokens['key_revoked']}"
        headers = {"Authorization": credential} if credential else {}
        response = call(authz, row, None, headers=headers)
        assert response.status_code == 401, (what, response.status_code, response.text)
        assert problem(response)["code"] == code, what
        assert response.headers["www-authenticate"] == "Bearer", what
    if row.write:
        assert changed_tables(authz.baseline, authz.fingerprint()) == []


PUBLIC_REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/auth/register"): {
        "json": {
            "kind": "creator",
            "email": "newcomer@example.com",
            "password": "correct horse battery",
            "display_name": "Newcomer",
        }
    },
    ("POST", "/auth/token"): {
        "data": {"username": "@admin_email", "password": "correct horse battery"}
    },
    ("GET", "/scopes"): {},
    ("GET", "/workflow"): {},
    ("GET", "/workflow/diagram"): {},
    ("GET", "/metrics/dictionary"): {},
}


def _signed_deposit_confirmation(env: Env) -> httpx.Response:
    """The sandbox provider confirming organization A's pending deposit, signed."""
    deposit = env.get(f"/wallet/deposits/{env.ids['deposit']}", "owner")
    assert deposit["status"] == "pending"
    return World(env.client, env.db).confirm_deposit(deposit)


def _signed_conversion(env: Env) -> httpx.Response:
    """A store of organization A reporting a sale, signed with its secret."""
    from pappus.analytics.conversions import canonical_json, sign

    store = env.request("POST", "/stores", "owner", json={"name": "Shop", "currency": "CNY"})
    assert store.status_code == 201, store.text
    body = canonical_json(
        {
            "type": "order.paid",
            "order_id": "authz-sale",
            "occurred_at": clock.now().isoformat(),
            "amount": 100,
            "currency": "CNY",
        }
    )
    signature = sign(store.json()["signing_secret"], int(clock.now().timestamp()), body)
    return env.client.post(
        f"{API_PREFIX}/conversions",
        content=body,
        headers={"Pappus-Store": store.json()["id"], "Pappus-Signature": signature},
    )


@pytest.mark.parametrize("row", [row for row in ROUTES if row.public], ids=lambda row: row.label)
def test_public_route_answers_without_credentials(authz: Env, row: Route) -> None:
    if (row.method, row.path) == ("POST", "/webhooks/payments/{provider}"):
        response = _signed_deposit_confirmation(authz)
    elif (row.method, row.path) == ("POST", "/conversions"):
        response = _signed_conversion(authz)
    elif (row.method, row.path) == ("GET", "/connectors/{platform}/callback"):
        # Reached without credentials; only a one-time state issued to a creator links
        # anything (the whole flow against the sandbox: tests/connectors/test_linking.py).
        response = authz.client.get(
            f"{API_PREFIX}/connectors/sandbox/callback", params={"state": "unknown", "code": "x"}
        )
        assert response.json()["code"] == "invalid_oauth_state", response.text
        return
    else:
        request = dict(PUBLIC_REQUESTS[(row.method, row.path)])
        if "data" in request:
            request["data"] = fill(request["data"], authz.ids)
        response = authz.client.request(row.method, API_PREFIX + row.path, **request)
    assert response.is_success, (response.status_code, response.text)


def test_no_token_stands_in_for_the_payment_providers_signature(authz: Env) -> None:
    """Only the provider's signature credits a wallet: not a bearer token of the brand, of
    another brand or of staff, and not a made-up signature."""
    env = authz
    deposit = env.get(f"/wallet/deposits/{env.ids['deposit']}", "owner")
    event = {
        "id": "evt_forged",
        "type": "deposit.succeeded",
        "data": {key: deposit[key] for key in ("provider_ref", "amount", "currency")},
    }
    forged = f"t={int(time.time())},v1={'0' * 64}"
    for caller in ("owner", "owner_b", "key_b", "staff", None):
        for signature in (None, forged):
            headers = {SIGNATURE_HEADER: signature} if signature else {}
            response = env.request(
                "POST", "/webhooks/payments/sandbox", caller, json=event, headers=headers
            )
            assert (response.status_code, problem(response)["code"]) == (
                400,
                "invalid_signature",
            ), (caller, signature)
    assert env.get(f"/wallet/deposits/{env.ids['deposit']}", "owner")["status"] == "pending"
    assert changed_tables(env.baseline, env.fingerprint()) == []


# -- what a refused write leaves behind, as organization A's owner sees it -------------------

OWNER_VIEWS = (
    "/organizations/{org_a}",
    "/organizations/{org_a}/members?limit=100",
    "/organizations/{org_a}/api-keys?limit=100",
    "/campaigns?organization_id={org_a}&limit=100",
    "/campaigns/{campaign_open}/applications",
    "/campaigns/{campaign_private}/invitations",
    "/applications/{app_pending}",
    "/invitations/{inv_pending}",
    "/orders?limit=100",
    *(
        f"/orders/{{{order}}}{part}"
        for order in (
            "order_new",
            "order_review",
            "order_approved",
            "order_published",
            "order_disputed",
        )
        for part in ("", "/drafts", "/events", "/metrics")
    ),
    "/orders/{order_published}/publication",
    "/disputes/{dispute}",
    "/wallet?organization_id={org_a}",
    "/wallet/transactions?organization_id={org_a}&limit=100",
    "/wallet/deposits?organization_id={org_a}&limit=100",
)


def owner_views(env: Env) -> dict[str, Any]:
    views = {}
    for view in OWNER_VIEWS:
        response = env.client.get(
            API_PREFIX + view.format(**env.ids),
            headers={"Authorization": f"Bearer {env.tokens['owner']}"},
        )
        assert response.status_code == 200, (view, response.text)
        views[view] = response.json()
    return views


def test_refused_writes_by_outsiders_leave_organization_a_as_its_owner_sees_it(
    authz: Env,
) -> None:
    # given A's owner's view of everything A has
    before = owner_views(authz)
    # when outsiders, and creator A beyond its part, send every write the table refuses them
    sent = 0
    for row in ROUTES:
        for caller in ("owner_b", "key_b", "creator_b", "creator_a"):
            if row.write and row.expect.get(caller) not in (None, OK):
                assert not call(authz, row, caller).is_success, (row.label, caller)
                sent += 1
    # then the owner sees exactly what they saw before
    assert sent > 50
    assert owner_views(authz) == before
