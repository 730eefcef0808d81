"""Bad input gets a clear error and changes nothing.

Wrong types, unknown ids, actions out of turn, replays, oversized or malformed bodies and wrong
tokens are each answered with a 4xx `application/problem+json` naming the problem (a stable
`code`, and for validation the failing fields in `errors`); the database is the same before and
after. A 500 is a bug.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from pappus.db import Base, Database
from pappus.kit.clock import clock, now
from pappus.orders.models import OrderEvent
from tests.fixtures.builders import PASSWORD, Who, World, ok

API = "/api/v1"
PROBLEM = "application/problem+json"
MISSING = "nope_01a2000000000000000000000000"


# -- helpers --------------------------------------------------------------------------------


def assert_problem(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem with this status (and code), as every error of the API is."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].split(";")[0] == PROBLEM, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == f"https://pappus.dev/problems/{body['code']}"
    assert body["title"] and body["detail"] and body["instance"]
    if code is not None:
        assert body["code"] == code, body
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def db_state(db: Database) -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request changed nothing."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(table.select()))
            for table in Base.metadata.sorted_tables
        }


def event_count(db: Database, order_id: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(OrderEvent.order_id == order_id)) or 0)


@dataclass
class Scene:
    """One of everything: a brand with a campaign and an order in review, and its creator."""

    world: World
    brand: Who
    creator: Who
    campaign_id: str
    order_id: str
    draft_id: str
    _staff: Who | None = None

    @property
    def client(self) -> TestClient:
        return self.world.client

    @property
    def staff(self) -> Who:
        if self._staff is None:
            self._staff = self.world.staff()
        return self._staff

    def who(self, name: str | None) -> dict[str, str]:
        """The headers of `name` (brand, creator or staff); none for None."""
        if name is None:
            return {}
        return (self.staff if name == "staff" else getattr(self, name)).headers

    def url(self, template: str) -> str:
        return API + template.format(
            campaign=self.campaign_id,
            order=self.order_id,
            draft=self.draft_id,
            org=self.brand.organization_id,
            user=self.brand.user_id,
            creator=self.creator.creator_id,
            missing=MISSING,
        )


@pytest.fixture
def scene(world: World) -> Scene:
    order_id, brand, creator = world.to_state("draft_review")
    drafts = ok(world.client.get(f"{API}/orders/{order_id}/drafts", headers=brand.headers))
    return Scene(
        world=world,
        brand=brand,
        creator=creator,
        campaign_id=world.get_order(order_id, brand)["campaign_id"],
        order_id=order_id,
        draft_id=drafts["items"][0]["id"],
    )


def mismatch(response: Response, status: int, code: str | None = None) -> str | None:
    """Why `response` is not the expected problem, or None when it is."""
    try:
        assert_problem(response, status, code)
    except AssertionError as exc:
        return f"{response.request.method} {response.request.url.path}: {exc}"
    return None


# -- malformed bodies -----------------------------------------------------------------------

MALFORMED = [
    b'{"proposal": "hi", "quote_amount": ',
    b"{'proposal': 'hi'}",
    b'{"proposal": "hi",}',
    b"proposal=hi&quote_amount=5",
    b'{"proposal": "hi',
    b"hello",
]
# Bodies that are not JSON for reasons other than syntax.
UNPARSEABLE = [
    b'{"proposal": "\xff\xfe", "quote_amount": 5, "currency": "CNY"}',  # not UTF-8
    b"[" * 100_000 + b"]" * 100_000,  # deeper than the parser goes
    b'{"proposal": "hi", "currency": "CNY", "quote_amount": 1' + b"0" * 5000 + b"}",  # 5001 digits
]
WRITES_WITH_BODIES = [
    ("POST", "/campaigns/{campaign}/applications", "creator"),
    ("POST", "/orders/{order}/cancel", "brand"),
    ("PATCH", "/campaigns/{campaign}", "brand"),
    ("POST", "/auth/register", None),
]


def test_malformed_json_is_a_400_malformed_body(scene: Scene) -> None:
    # given valid parties and a body that is not JSON
    before = db_state(scene.world.db)
    wrong = []
    for payload in MALFORMED + UNPARSEABLE:
        for method, template, who in WRITES_WITH_BODIES:
            # when it is sent to a write
            response = scene.client.request(
                method,
                scene.url(template),
                content=payload,
                headers={"content-type": "application/json", **scene.who(who)},
            )
            # then it is a 400 malformed_body, with the reason in errors[]
            problem = mismatch(response, 400, "malformed_body")
            if problem is None and response.json()["errors"][0]["type"] != "json_invalid":
                problem = f"{template}: {response.json()['errors']}"
            if problem:
                wrong.append(f"{payload[:30]!r}: {problem}")
    assert wrong == []
    assert db_state(scene.world.db) == before


def test_a_body_that_is_not_an_object_names_the_body(scene: Scene) -> None:
    before = db_state(scene.world.db)
    wrong = []
    for payload in (b"[]", b"null", b'"a string"', b"42", b"true", b""):
        response = scene.client.post(
            scene.url("/orders/{order}/disputes"),
            content=payload,
            headers={"content-type": "application/json", **scene.who("creator")},
        )
        problem = mismatch(response, 422, "validation_failed")
        if problem is None and error_fields(response.json()) != {"body"}:
            problem = str(response.json()["errors"])
        if problem:
            wrong.append(f"{payload!r}: {problem}")
    assert wrong == []
    assert db_state(scene.world.db) == before


# -- wrong types and values -----------------------------------------------------------------

# (brief overrides, the one failing field, pydantic's error type or None when it depends on
# strict/lax parsing)
CAMPAIGN_TYPE_ERRORS: list[tuple[dict[str, Any], str, str | None]] = [
    ({"budget_amount": "lots"}, "budget_amount", None),
    ({"budget_amount": -1}, "budget_amount", "greater_than_equal"),
    ({"budget_amount": 1000.5}, "budget_amount", None),
    ({"budget_amount": 10**12 + 1}, "budget_amount", "less_than_equal"),
    ({"budget_amount": None}, "budget_amount", "int_type"),
    ({"budget_amount": [100]}, "budget_amount", "int_type"),
    ({"objective": "virality"}, "objective", "literal_error"),
    ({"campaign_type": 3}, "campaign_type", "literal_error"),
    ({"visibility": "secret"}, "visibility", "literal_error"),
    ({"compensation_model": "barter"}, "compensation_model", "literal_error"),
    ({"formats": ["hologram"]}, "formats.0", "literal_error"),
    ({"formats": "image_post"}, "formats", "list_type"),
    ({"formats": []}, "formats", "too_short"),
    ({"name": ""}, "name", "string_too_short"),
    ({"name": 123}, "name", "string_type"),
    ({"name": "x" * 201}, "name", "string_too_long"),
    ({"currency": "XXX"}, "currency", "value_error"),
    ({"currency": "CNYX"}, "currency", "string_too_long"),
    ({"product": "serum"}, "product", "model_attributes_type"),
    (
        {"product": {"name": "Glow", "value_amount": -5}},
        "product.value_amount",
        "greater_than_equal",
    ),
    ({"product": {"name": "Glow", "url": "not a url"}}, "product.url", "url_parsing"),
    ({"product": {"name": "Glow", "colour": "red"}}, "product.colour", "extra_forbidden"),
    ({"kpis": [{"metric": "views", "target": 0}]}, "kpis.0.target", "greater_than_equal"),
    ({"kpis": [{"metric": "vibes", "target": 5}]}, "kpis.0.metric", "literal_error"),
    (
        {"compensation": {"fixed_fee_amount": -100}},
        "compensation.fixed_fee_amount",
        "greater_than_equal",
    ),
    (
        {"creator_criteria": {"min_engagement_rate_bp": 10_001}},
        "creator_criteria.min_engagement_rate_bp",
        "less_than_equal",
    ),
    ({"timeline": {"review_days": 0}}, "timeline.review_days", "greater_than_equal"),
    ({"starts_at": "next tuesday"}, "starts_at", None),
    ({"discount_code": "SPRING"}, "discount_code", "extra_forbidden"),
    ({"organization_id": 42}, "organization_id", "string_type"),
]


def _field_mismatch(
    response: Response, field: str, error_type: str | None, code: str = "validation_failed"
) -> str | None:
    problem = mismatch(response, 422, code)
    if problem:
        return problem
    errors = response.json()["errors"]
    got = [(e["field"], e["type"] if error_type else None) for e in errors]
    if got != [(field, error_type)] or not all(e["message"] for e in errors):
        return f"expected [({field!r}, {error_type!r})], got {got}"
    return None


def test_wrong_types_and_values_name_the_failing_field(world: World) -> None:
    # given a brand
    brand = world.brand()
    before = db_state(world.db)
    wrong = []
    for overrides, field, error_type in CAMPAIGN_TYPE_ERRORS:
        # when it creates a campaign with one wrong value
        response = world.client.post(
            f"{API}/campaigns", json=world.campaign_body(**overrides), headers=brand.headers
        )
        # then the answer names exactly that field
        problem = _field_mismatch(response, field, error_type)
        if problem:
            wrong.append(f"{overrides}: {problem}")
    assert wrong == []
    # and nothing was created
    assert db_state(world.db) == before


APPLICATION_TYPE_ERRORS: list[tuple[dict[str, Any], str, str | None]] = [
    ({"quote_amount": -500}, "quote_amount", "greater_than_equal"),
    ({"quote_amount": 0}, "quote_amount", "greater_than_equal"),
    ({"quote_amount": 499.99}, "quote_amount", None),
    ({"quote_amount": "five hundred"}, "quote_amount", None),
    ({"quote_amount": {"amount": 5}}, "quote_amount", "int_type"),
    ({"quote_amount": 10**12 + 1}, "quote_amount", "less_than_equal"),
    ({"currency": 156}, "currency", "string_type"),
    (
        {"deliverables": [{"format": "image_post", "quantity": 0}]},
        "deliverables.0.quantity",
        "greater_than_equal",
    ),
    ({"deliverables": [{"format": "smoke_signal"}]}, "deliverables.0.format", "literal_error"),
    ({"deliverables": {"format": "image_post"}}, "deliverables", "list_type"),
    ({"tip": 5}, "tip", "extra_forbidden"),
]
# JSON that is not an integer, for money: each must be refused, none coerced.
NOT_INTEGERS: list[Any] = ["500000", 500000.0, True, "5e5"]


def test_money_and_offer_fields_refuse_wrong_types(world: World) -> None:
    brand, creator = world.brand(), world.creator()
    campaign = world.campaign(brand)
    before = db_state(world.db)
    wrong = []
    cases = APPLICATION_TYPE_ERRORS + [
        ({"quote_amount": value}, "quote_amount", None) for value in NOT_INTEGERS
    ]
    for overrides, field, error_type in cases:
        response = world.client.post(
            f"{API}/campaigns/{campaign['id']}/applications",
            json={
                "proposal": "I love serums",
                "quote_amount": 500_000,
                "currency": "CNY",
                **overrides,
            },
            headers=creator.headers,
        )
        problem = _field_mismatch(response, field, error_type)
        if problem:
            wrong.append(f"{overrides}: {problem}")
    assert wrong == []
    assert db_state(world.db) == before


def test_other_money_fields_refuse_non_integers(scene: Scene) -> None:
    assert scene.staff  # signed in before the snapshot
    # invitations, metrics and dispute shares are integers too
    other_creator = scene.world.creator()
    scene.world.approve(scene.order_id, scene.draft_id, scene.brand)
    scene.world.publish(scene.order_id, scene.creator)
    before = db_state(scene.world.db)
    wrong = []
    for value in [*NOT_INTEGERS, -1, 1.5, None]:
        for who, template, body, field in (
            (
                "brand",
                "/campaigns/{campaign}/invitations",
                {"creator_id": other_creator.creator_id, "offer_amount": value},
                "offer_amount",
            ),
            (
                "staff",
                "/orders/{order}/metrics",
                {"taken_at": now().isoformat(), "views": value},
                "views",
            ),
            (
                "staff",
                "/disputes/{missing}/resolve",
                {"resolution": "split", "creator_share_bp": value, "note": "n"},
                "creator_share_bp",
            ),
        ):
            if field == "creator_share_bp" and value is None:
                continue  # a missing share is its own rule, tested with cross-field rules
            response = scene.client.post(scene.url(template), json=body, headers=scene.who(who))
            problem = _field_mismatch(response, field, None)
            if problem:
                wrong.append(f"{template} {field}={value!r}: {problem}")
    assert wrong == []
    assert db_state(scene.world.db) == before


VALID_BODIES: list[tuple[str, str, str | None, dict[str, Any]]] = [
    # (method, path, who, a body that is valid apart from the extra field added to it)
    (
        "POST",
        "/auth/register",
        None,
        {
            "kind": "creator",
            "email": "extra@example.com",
            "password": PASSWORD,
            "display_name": "Extra",
        },
    ),
    ("PATCH", "/organizations/{org}", "brand", {"name": "Renamed"}),
    ("POST", "/organizations/{org}/members", "brand", {"email": "someone@example.com"}),
    ("PATCH", "/organizations/{org}/members/{user}", "brand", {"role": "owner"}),
    ("POST", "/organizations/{org}/api-keys", "brand", {"name": "k", "scopes": ["orders:read"]}),
    ("PATCH", "/creators/me", "creator", {"bio": "hello"}),
    ("PATCH", "/campaigns/{campaign}", "brand", {"name": "Renamed"}),
    (
        "POST",
        "/campaigns/{campaign}/applications",
        "creator",
        {"proposal": "p", "quote_amount": 5, "currency": "CNY"},
    ),
    ("POST", "/applications/{missing}/accept", "brand", {"note": "n"}),
    ("POST", "/applications/{missing}/reject", "brand", {"note": "n"}),
    (
        "POST",
        "/campaigns/{campaign}/invitations",
        "brand",
        {"creator_id": "{creator}", "offer_amount": 100},
    ),
    ("POST", "/invitations/{missing}/accept", "creator", {"note": "n"}),
    ("POST", "/invitations/{missing}/decline", "creator", {"note": "n"}),
    ("POST", "/orders/{order}/drafts", "creator", {"body": "b"}),
    ("POST", "/orders/{order}/drafts/{draft}/approve", "brand", {"note": "n"}),
    ("POST", "/orders/{order}/drafts/{draft}/request-changes", "brand", {"feedback": "f"}),
    ("POST", "/orders/{order}/publication", "creator", {"post_url": "https://x.example/p"}),
    ("POST", "/orders/{order}/metrics", "staff", {"taken_at": "2026-01-01T00:00:00Z"}),
    ("POST", "/orders/{order}/cancel", "brand", {"reason": "r"}),
    ("POST", "/orders/{order}/disputes", "brand", {"reason": "r"}),
    ("POST", "/disputes/{missing}/resolve", "staff", {"resolution": "release", "note": "n"}),
    ("POST", "/wallet/deposits", "brand", {"amount": 10_000}),
    (
        "POST",
        "/payout-methods",
        "creator",
        {"kind": "alipay", "holder_name": "Lin", "account_number": "13800138000"},
    ),
    ("POST", "/payouts", "creator", {"amount": 10_000, "payout_method_id": "{missing}"}),
]


def test_unknown_fields_are_refused_everywhere(scene: Scene) -> None:
    assert scene.staff  # signed in before the snapshot
    before = db_state(scene.world.db)
    wrong = []
    for method, template, who, body in VALID_BODIES:
        payload = {
            k: v.format(missing=MISSING, creator=scene.creator.creator_id)
            if isinstance(v, str)
            else v
            for k, v in body.items()
        }
        response = scene.client.request(
            method, scene.url(template), json=payload | {"surprise": True}, headers=scene.who(who)
        )
        problem = _field_mismatch(response, "surprise", "extra_forbidden")
        if problem:
            wrong.append(f"{method} {template}: {problem}")
    assert wrong == []
    assert db_state(scene.world.db) == before


QUERY_ERRORS = [
    ("/orders?state=lost", "query.state"),
    ("/orders?limit=ten", "query.limit"),
    ("/campaigns?status=paused", "query.status"),
    ("/creators?min_followers=-1", "query.min_followers"),
    ("/creators?available=perhaps", "query.available"),
    ("/creators?tier=mega", "query.tier.0"),  # tier is repeatable: the first value is wrong
    ("/marketplace/campaigns?objective=fame", "query.objective"),
    ("/marketplace/campaigns?q=" + "x" * 101, "query.q"),
    ("/disputes?status=pending", "query.status"),
]


def test_wrong_query_parameters_name_the_parameter(world: World) -> None:
    staff = world.staff()
    wrong = []
    for path, field in QUERY_ERRORS:
        response = world.client.get(API + path, headers=staff.headers)
        problem = mismatch(response, 422, "validation_failed")
        if problem is None and error_fields(response.json()) != {field}:
            problem = str(response.json()["errors"])
        if problem:
            wrong.append(f"{path}: {problem}")
    assert wrong == []


def test_a_patch_cannot_null_a_required_field(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand, open_it=False)
    before = db_state(world.db)
    for field in ("budget_amount", "name", "formats", "product"):
        response = world.client.patch(
            f"{API}/campaigns/{campaign['id']}", json={field: None}, headers=brand.headers
        )
        body = assert_problem(response, 422)
        assert error_fields(body) == {field}
    assert db_state(world.db) == before


def test_the_token_endpoint_refuses_bad_grants(world: World) -> None:
    client = world.client
    before = db_state(world.db)
    body = assert_problem(
        client.post(f"{API}/auth/token", data={"grant_type": "client_credentials"}),
        422,
        "validation_failed",
    )
    assert error_fields(body) == {"grant_type"}
    body = assert_problem(
        client.post(f"{API}/auth/token", data={"username": "a@example.com"}),
        422,
        "invalid_input",
    )
    assert error_fields(body) == {"username"}
    body = assert_problem(
        client.post(f"{API}/auth/token", data={"grant_type": "refresh_token"}),
        422,
        "invalid_input",
    )
    assert error_fields(body) == {"refresh_token"}
    assert db_state(world.db) == before


# -- missing required fields ----------------------------------------------------------------

REQUIRED = [
    # (method, path, who, the required fields of an empty object body)
    ("POST", "/auth/register", None, {"kind", "email", "password", "display_name"}),
    (
        "POST",
        "/campaigns",
        "brand",
        {"name", "objective", "campaign_type", "product", "formats", "budget_amount"},
    ),
    (
        "POST",
        "/campaigns/{campaign}/applications",
        "creator",
        {"proposal", "quote_amount", "currency"},
    ),
    ("POST", "/campaigns/{campaign}/invitations", "brand", {"creator_id", "offer_amount"}),
    ("POST", "/orders/{order}/drafts", "creator", {"body"}),
    ("POST", "/orders/{order}/drafts/{draft}/request-changes", "brand", {"feedback"}),
    ("POST", "/orders/{order}/publication", "creator", {"post_url"}),
    ("POST", "/orders/{order}/metrics", "staff", {"taken_at"}),
    ("POST", "/orders/{order}/cancel", "brand", {"reason"}),
    ("POST", "/orders/{order}/disputes", "brand", {"reason"}),
    ("POST", "/disputes/{missing}/resolve", "staff", {"resolution", "note"}),
    ("POST", "/organizations/{org}/members", "brand", {"email"}),
    ("PATCH", "/organizations/{org}/members/{user}", "brand", {"role"}),
    ("POST", "/organizations/{org}/api-keys", "brand", {"name", "scopes"}),
]


def test_missing_required_fields_are_each_named(scene: Scene) -> None:
    assert scene.staff  # signed in before the snapshot
    before = db_state(scene.world.db)
    wrong = []
    for method, template, who, required in REQUIRED:
        response = scene.client.request(
            method, scene.url(template), json={}, headers=scene.who(who)
        )
        problem = mismatch(response, 422, "validation_failed")
        if problem is None:
            missing = {e["field"] for e in response.json()["errors"] if e["type"] == "missing"}
            if missing != required:
                problem = f"missing fields named {sorted(missing)}"
        if problem:
            wrong.append(f"{method} {template}: {problem}")
    assert wrong == []
    assert db_state(scene.world.db) == before


@pytest.mark.parametrize(
    ("case", "fields"),
    [
        ("brand-without-organization", {"organization_name"}),
        ("split-without-share", {"creator_share_bp"}),
        ("campaign-ends-before-it-starts", {"ends_at", "starts_at"}),
        ("bonus-without-kpis", {"kpis", "compensation", "compensation.bonus_cap_amount"}),
        (
            "patch-to-commission-without-rate",
            {"compensation", "compensation_model", "compensation.commission_rate_bp"},
        ),
    ],
)
def test_cross_field_rules_name_the_fields_involved(
    world: World, case: str, fields: set[str]
) -> None:
    client = world.client
    if case == "brand-without-organization":
        response = client.post(
            f"{API}/auth/register",
            json={
                "kind": "brand",
                "email": "solo@example.com",
                "password": PASSWORD,
                "display_name": "Solo",
            },
        )
    elif case == "split-without-share":
        order_id, _, _ = world.to_state("disputed")
        staff = world.staff()
        dispute_id = world.get_order(order_id, staff)["open_dispute_id"]
        response = client.post(
            f"{API}/disputes/{dispute_id}/resolve",
            json={"resolution": "split", "note": "half each"},
            headers=staff.headers,
        )
    elif case in {"campaign-ends-before-it-starts", "bonus-without-kpis"}:
        brand = world.brand()
        overrides: dict[str, Any] = (
            {"starts_at": "2031-02-01T00:00:00Z", "ends_at": "2031-01-01T00:00:00Z"}
            if case == "campaign-ends-before-it-starts"
            else {
                "compensation_model": "fixed_plus_bonus",
                "compensation": {"bonus_cap_amount": 1000},
            }
        )
        response = client.post(
            f"{API}/campaigns", json=world.campaign_body(**overrides), headers=brand.headers
        )
    else:
        brand = world.brand()
        campaign = world.campaign(brand, open_it=False)
        response = client.patch(
            f"{API}/campaigns/{campaign['id']}",
            json={"compensation_model": "commission"},
            headers=brand.headers,
        )
    body = assert_problem(response, 422)
    assert body["errors"], body
    assert error_fields(body) <= fields, body
    assert "input_value" not in body["detail"], body  # no pydantic internals in the answer


# -- oversized bodies -----------------------------------------------------------------------

LIMIT = 1_048_576  # Settings.max_body_bytes, the default the tests run with


def _register_body(size: int) -> bytes:
    """A registration whose JSON is exactly `size` bytes (the display name pads it)."""
    head = b'{"kind": "creator", "email": "big@example.com", "password": "long enough pw", '
    head += b'"display_name": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def _chunks(payload: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(payload), size):
        yield payload[start : start + size]


def test_a_body_over_the_limit_is_a_413_with_or_without_content_length(world: World) -> None:
    before = db_state(world.db)
    # given Content-Length announcing one byte too many
    response = world.client.post(
        f"{API}/auth/register",
        content=_register_body(LIMIT + 1),
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 413, "payload_too_large")
    assert str(LIMIT) in body["detail"]
    # given a chunked body with no Content-Length, counted as it streams
    request = world.client.build_request(
        "POST",
        f"{API}/auth/register",
        content=_chunks(_register_body(LIMIT + 64 * 1024)),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    assert_problem(world.client.send(request), 413, "payload_too_large")
    assert db_state(world.db) == before


def test_a_body_at_the_limit_is_read_and_validated(world: World) -> None:
    before = db_state(world.db)
    for content in (_register_body(LIMIT), _chunks(_register_body(LIMIT))):
        response = world.client.post(
            f"{API}/auth/register", content=content, headers={"content-type": "application/json"}
        )
        body = assert_problem(response, 422, "validation_failed")
        assert error_fields(body) == {"display_name"}
    assert db_state(world.db) == before


def test_a_small_chunked_body_is_accepted(world: World) -> None:
    response = world.client.post(
        f"{API}/auth/register",
        content=_chunks(
            b'{"kind": "creator", "email": "chunky@example.com", "password": "long enough pw", '
            b'"display_name": "Chunky"}',
            size=16,
        ),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text


# -- unknown ids ----------------------------------------------------------------------------

UNKNOWN_IDS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    # (method, path, who, body); {missing} is an id nothing has
    ("GET", "/organizations/{missing}", "brand", None),
    ("PATCH", "/organizations/{missing}", "brand", {"name": "New"}),
    ("GET", "/organizations/{missing}/members", "brand", None),
    ("POST", "/organizations/{missing}/members", "brand", {"email": "x@example.com"}),
    ("PATCH", "/organizations/{missing}/members/{user}", "brand", {"role": "admin"}),
    ("DELETE", "/organizations/{missing}/members/{user}", "brand", None),
    ("PATCH", "/organizations/{org}/members/{missing}", "brand", {"role": "admin"}),
    ("DELETE", "/organizations/{org}/members/{missing}", "brand", None),
    (
        "POST",
        "/organizations/{missing}/api-keys",
        "brand",
        {"name": "k", "scopes": ["orders:read"]},
    ),
    ("GET", "/organizations/{missing}/api-keys", "brand", None),
    ("DELETE", "/organizations/{missing}/api-keys/{missing}", "brand", None),
    ("DELETE", "/organizations/{org}/api-keys/{missing}", "brand", None),
    ("GET", "/creators/{missing}", "brand", None),
    ("GET", "/campaigns/{missing}", "brand", None),
    ("GET", "/campaigns/{order}", "brand", None),  # an id of another kind
    ("PATCH", "/campaigns/{missing}", "brand", {"name": "New"}),
    ("POST", "/campaigns/{missing}/open", "brand", None),
    ("POST", "/campaigns/{missing}/close", "brand", None),
    ("POST", "/campaigns/{missing}/reopen", "brand", None),
    ("POST", "/campaigns/{missing}/cancel", "brand", None),
    ("POST", "/campaigns/{missing}/complete", "brand", None),
    ("GET", "/marketplace/campaigns/{missing}", "creator", None),
    (
        "POST",
        "/campaigns/{missing}/applications",
        "creator",
        {"proposal": "p", "quote_amount": 5, "currency": "CNY"},
    ),
    ("GET", "/campaigns/{missing}/applications", "brand", None),
    ("GET", "/applications/{missing}", "brand", None),
    ("POST", "/applications/{missing}/accept", "brand", None),
    ("POST", "/applications/{missing}/reject", "brand", None),
    ("POST", "/applications/{missing}/withdraw", "creator", None),
    (
        "POST",
        "/campaigns/{missing}/invitations",
        "brand",
        {"creator_id": "{creator}", "offer_amount": 100},
    ),
    (
        "POST",
        "/campaigns/{campaign}/invitations",
        "brand",
        {"creator_id": "{missing}", "offer_amount": 100},
    ),
    ("GET", "/campaigns/{missing}/invitations", "brand", None),
    ("GET", "/invitations/{missing}", "creator", None),
    ("POST", "/invitations/{missing}/accept", "creator", None),
    ("POST", "/invitations/{missing}/decline", "creator", None),
    ("POST", "/invitations/{missing}/revoke", "brand", None),
    ("GET", "/orders/{missing}", "brand", None),
    ("GET", "/orders/{campaign}", "brand", None),  # an id of another kind
    ("GET", "/orders/{missing}/drafts", "brand", None),
    ("POST", "/orders/{missing}/drafts", "creator", {"body": "b"}),
    ("POST", "/orders/{missing}/drafts/{draft}/approve", "brand", None),
    ("POST", "/orders/{order}/drafts/{missing}/approve", "brand", None),
    ("POST", "/orders/{missing}/drafts/{draft}/request-changes", "brand", {"feedback": "f"}),
    ("POST", "/orders/{order}/drafts/{missing}/request-changes", "brand", {"feedback": "f"}),
    ("POST", "/orders/{missing}/publication", "creator", {"post_url": "https://x.example/p"}),
    ("GET", "/orders/{missing}/publication", "brand", None),
    ("GET", "/orders/{order}/publication", "brand", None),  # not published yet
    ("POST", "/orders/{missing}/metrics", "staff", {"taken_at": "2026-01-01T00:00:00Z"}),
    ("GET", "/orders/{missing}/metrics", "brand", None),
    ("GET", "/orders/{missing}/events", "brand", None),
    ("POST", "/orders/{missing}/cancel", "brand", {"reason": "r"}),
    ("POST", "/orders/{missing}/disputes", "brand", {"reason": "r"}),
    ("GET", "/disputes/{missing}", "staff", None),
    ("POST", "/disputes/{missing}/resolve", "staff", {"resolution": "release", "note": "n"}),
    ("GET", "/no-such-thing", "brand", None),
    ("GET", "/orders/{order}/no-such-thing", "brand", None),
]


def test_unknown_ids_on_every_kind_of_path_are_404(scene: Scene) -> None:
    assert scene.staff  # signed in before the snapshot
    before = db_state(scene.world.db)
    wrong = []
    for method, template, who, body in UNKNOWN_IDS:
        payload = (
            {
                k: v.format(missing=MISSING, creator=scene.creator.creator_id)
                if isinstance(v, str)
                else v
                for k, v in body.items()
            }
            if body is not None
            else None
        )
        response = scene.client.request(
            method, scene.url(template), json=payload, headers=scene.who(who)
        )
        problem = mismatch(response, 404, "not_found")
        if problem:
            wrong.append(f"{method} {template}: {problem}")
    assert wrong == []
    assert db_state(scene.world.db) == before


def test_someone_elses_resources_are_404_not_403(scene: Scene) -> None:
    # given a second brand and a second creator with no part in the scene's order
    stranger = scene.world.brand()
    other_creator = scene.world.creator()
    before = db_state(scene.world.db)
    wrong = []
    for who, method, template in (
        (stranger, "GET", "/orders/{order}"),
        (stranger, "GET", "/orders/{order}/events"),
        (stranger, "POST", "/orders/{order}/drafts/{draft}/approve"),
        (stranger, "POST", "/orders/{order}/cancel"),
        (stranger, "GET", "/campaigns/{campaign}"),
        (stranger, "POST", "/campaigns/{campaign}/close"),
        (stranger, "GET", "/organizations/{org}"),
        (stranger, "GET", "/organizations/{org}/members"),
        (other_creator, "GET", "/orders/{order}"),
        (other_creator, "GET", "/orders/{order}/drafts"),
        (other_creator, "POST", "/orders/{order}/drafts"),
    ):
        # when they ask for it or act on it, then it does not exist for them
        body = (
            {"reason": "mine now"}
            if template.endswith("cancel")
            else ({"body": "mine"} if template.endswith("drafts") and method == "POST" else None)
        )
        response = scene.client.request(method, scene.url(template), json=body, headers=who.headers)
        problem = mismatch(response, 404, "not_found")
        if problem:
            wrong.append(problem)
    assert wrong == []
    assert db_state(scene.world.db) == before


# -- pagination -----------------------------------------------------------------------------

LISTS = [
    ("/orders", "brand"),
    ("/campaigns", "brand"),
    ("/campaigns/{campaign}/applications", "brand"),
    ("/campaigns/{campaign}/invitations", "brand"),
    ("/organizations/{org}/members", "brand"),
    ("/organizations/{org}/api-keys", "brand"),
    ("/orders/{order}/drafts", "brand"),
    ("/orders/{order}/events", "brand"),
    ("/orders/{order}/metrics", "brand"),
    ("/marketplace/campaigns", "creator"),
    ("/applications", "creator"),
    ("/invitations", "creator"),
    ("/creators", "brand"),
    ("/disputes", "staff"),
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    # (cursor, code)
    ("!!!!", "invalid_input"),  # not base64
    ("A", "invalid_input"),  # truncated base64
    (_b64(b"hello"), "invalid_input"),  # no id inside
    (_b64(b"\xff\xfe_\xfd"), "invalid_input"),  # not UTF-8
    (_b64(b"ord_" + b"x" * 70), "invalid_input"),  # longer than any id
    ("A" * 129, "validation_failed"),  # over the parameter's 128 characters
]


def test_a_cursor_this_api_did_not_issue_is_a_422(scene: Scene) -> None:
    wrong = []
    for template, who in LISTS:
        for cursor, code in BAD_CURSORS:
            response = scene.client.get(
                scene.url(template), params={"cursor": cursor}, headers=scene.who(who)
            )
            problem = mismatch(response, 422, code)
            if problem is None and error_fields(response.json()) != {"query.cursor"}:
                problem = str(response.json()["errors"])
            if problem:
                wrong.append(f"{template} cursor={cursor[:12]}: {problem}")
    assert wrong == []


def test_a_limit_out_of_range_is_a_422(scene: Scene) -> None:
    wrong = []
    for template, who in LISTS:
        for limit in ("0", "-1", "101", "1000000", "ten", "1.5", ""):
            response = scene.client.get(
                scene.url(template), params={"limit": limit}, headers=scene.who(who)
            )
            problem = mismatch(response, 422, "validation_failed")
            if problem is None and error_fields(response.json()) != {"query.limit"}:
                problem = str(response.json()["errors"])
            if problem:
                wrong.append(f"{template} limit={limit}: {problem}")
    assert wrong == []


def test_an_issued_cursor_pages_through_a_list(world: World) -> None:
    brand = world.brand()
    made = [world.campaign(brand, open_it=False, name=f"Brief {i}")["id"] for i in range(3)]
    first = ok(world.client.get(f"{API}/campaigns?limit=2", headers=brand.headers))
    assert first["next_cursor"]
    second = ok(
        world.client.get(
            f"{API}/campaigns",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=brand.headers,
        )
    )
    assert second["next_cursor"] is None
    seen = [c["id"] for c in first["items"] + second["items"]]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 3


# -- tokens ---------------------------------------------------------------------------------


def _tokens(world: World, email: str) -> dict[str, Any]:
    return dict(
        ok(world.client.post(f"{API}/auth/token", data={"username": email, "password": PASSWORD}))
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_requests_without_a_valid_token_are_401(world: World) -> None:
    client = world.client
    before = db_state(world.db)
    for headers, code in (
        ({}, "missing_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_token"),
        ({"Authorization": "Bearer "}, "missing_token"),
        (_bearer("pat_not-a-real-token"), "invalid_token"),
        (_bearer("x" * 513), "invalid_token"),
        (_bearer("pk_live_not-a-real-key"), "invalid_api_key"),
    ):
        response = client.get(f"{API}/me", headers=headers)
        assert_problem(response, 401, code)
        assert response.headers["www-authenticate"] == "Bearer"
        # writes are refused the same way, before their body is looked at
        assert_problem(client.post(f"{API}/campaigns", json={}, headers=headers), 401, code)
    assert db_state(world.db) == before


def test_wrong_credentials_are_401_invalid_credentials(world: World) -> None:
    brand = world.brand()
    before = db_state(world.db)
    for username, password in (
        (brand.email, "wrong password!"),
        ("nobody@example.com", PASSWORD),
        (brand.email.upper(), "wrong password!"),
    ):
        response = world.client.post(
            f"{API}/auth/token", data={"username": username, "password": password}
        )
        assert_problem(response, 401, "invalid_credentials")
    assert db_state(world.db) == before


def test_a_refresh_token_is_not_an_access_token(world: World) -> None:
    brand = world.brand()
    refresh = _tokens(world, brand.email)["refresh_token"]
    assert_problem(world.client.get(f"{API}/me", headers=_bearer(refresh)), 401, "invalid_token")


def test_an_access_token_expires(world: World) -> None:
    # given a token (tests give access tokens a lifetime of a year)
    brand = world.brand()
    ok(world.client.get(f"{API}/me", headers=brand.headers))
    # when more than a year passes
    clock.advance(timedelta(days=366))
    # then it is refused as expired, for reads and writes
    before = db_state(world.db)
    assert_problem(world.client.get(f"{API}/me", headers=brand.headers), 401, "token_expired")
    assert_problem(
        world.client.post(f"{API}/campaigns", json=world.campaign_body(), headers=brand.headers),
        401,
        "token_expired",
    )
    assert db_state(world.db) == before


def test_logout_revokes_only_the_token_used(world: World) -> None:
    brand = world.brand()
    other_session = world.login(brand.email)
    assert world.client.post(f"{API}/auth/logout", headers=brand.headers).status_code == 204
    assert_problem(world.client.get(f"{API}/me", headers=brand.headers), 401, "token_expired")
    assert_problem(
        world.client.post(f"{API}/auth/logout", headers=brand.headers), 401, "token_expired"
    )
    ok(world.client.get(f"{API}/me", headers=_bearer(other_session)))


def test_a_refresh_token_can_be_used_once(world: World) -> None:
    brand = world.brand()
    first = _tokens(world, brand.email)
    # when the refresh token is exchanged, a new pair comes back
    rotated = ok(
        world.client.post(
            f"{API}/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        )
    )
    assert rotated["refresh_token"] != first["refresh_token"]
    ok(world.client.get(f"{API}/me", headers=_bearer(rotated["access_token"])))
    # then replaying the spent refresh token is refused and issues nothing
    before = db_state(world.db)
    replay = world.client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    body = assert_problem(replay, 401, "invalid_credentials")
    assert "already used" in body["detail"]
    # and neither an access token nor a made-up one works as a refresh token
    for not_refresh in (first["access_token"], "prt_made-up"):
        assert_problem(
            world.client.post(
                f"{API}/auth/token",
                data={"grant_type": "refresh_token", "refresh_token": not_refresh},
            ),
            401,
            "invalid_credentials",
        )
    assert db_state(world.db) == before
    # the rotated one still works, once
    ok(
        world.client.post(
            f"{API}/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]},
        )
    )


def test_a_refresh_token_expires(world: World) -> None:
    brand = world.brand()
    refresh = _tokens(world, brand.email)["refresh_token"]
    clock.advance(timedelta(days=31))  # refresh tokens last 30 days
    before = db_state(world.db)
    response = world.client.post(
        f"{API}/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert_problem(response, 401, "invalid_credentials")
    assert db_state(world.db) == before


def test_a_revoked_api_key_is_refused(world: World) -> None:
    owner = world.brand()
    key = world.api_key(owner, ["orders:read"])
    ok(world.client.get(f"{API}/orders", headers=key.headers))
    ok(
        world.client.delete(
            f"{API}/organizations/{owner.organization_id}/api-keys/{key.extra['id']}",
            headers=owner.headers,
        )
    )
    assert_problem(world.client.get(f"{API}/orders", headers=key.headers), 401, "invalid_api_key")


def test_a_key_without_the_scope_is_403_and_changes_nothing(scene: Scene) -> None:
    key = scene.world.api_key(scene.brand, ["orders:read"])
    before = db_state(scene.world.db)
    response = scene.client.post(
        scene.url("/orders/{order}/drafts/{draft}/approve"), headers=key.headers
    )
    assert_problem(response, 403, "missing_scope")
    assert db_state(scene.world.db) == before


# -- duplicates -----------------------------------------------------------------------------


def test_registering_an_email_twice_is_409_email_taken(world: World) -> None:
    brand = world.brand()
    creator = world.creator()
    before = db_state(world.db)
    for kind, email in (
        ("brand", brand.email),
        ("creator", brand.email),
        ("brand", brand.email.upper()),
        ("creator", creator.email),
    ):
        extra = {"organization_name": "Copycat"} if kind == "brand" else {}
        response = world.client.post(
            f"{API}/auth/register",
            json={
                "kind": kind,
                "email": email,
                "password": PASSWORD,
                "display_name": "Copycat",
                **extra,
            },
        )
        body = assert_problem(response, 409, "email_taken")
        assert email.lower() in body["detail"]
    assert db_state(world.db) == before


# -- actions out of turn --------------------------------------------------------------------


def _order_snapshot(world: World, order_id: str, who: Who) -> tuple[dict[str, Any], int]:
    return world.get_order(order_id, who), event_count(world.db, order_id)


def test_approving_a_draft_twice_is_409(scene: Scene) -> None:
    world = scene.world
    world.approve(scene.order_id, scene.draft_id, scene.brand)
    snapshot = _order_snapshot(world, scene.order_id, scene.brand)
    before = db_state(world.db)
    for action, body in (("approve", None), ("request-changes", {"feedback": "one more"})):
        response = scene.client.post(
            scene.url(f"/orders/{{order}}/drafts/{{draft}}/{action}"),
            json=body,
            headers=scene.brand.headers,
        )
        assert_problem(response, 409, "draft_not_in_review")
    assert _order_snapshot(world, scene.order_id, scene.brand) == snapshot
    assert db_state(world.db) == before


def test_publishing_before_approval_is_409(scene: Scene) -> None:
    world = scene.world
    snapshot = _order_snapshot(world, scene.order_id, scene.creator)
    before = db_state(world.db)
    response = scene.client.post(
        scene.url("/orders/{order}/publication"),
        json={"post_url": "https://www.xiaohongshu.com/explore/early"},
        headers=scene.creator.headers,
    )
    body = assert_problem(response, 409, "order_not_in_state")
    assert body["state"] == "draft_review"
    assert "publish" not in body["allowed_actions"]
    assert _order_snapshot(world, scene.order_id, scene.creator) == snapshot
    assert db_state(world.db) == before


def test_submitting_a_draft_on_a_completed_order_is_409(world: World) -> None:
    order_id, brand, creator = world.to_state("completed")
    snapshot = _order_snapshot(world, order_id, brand)
    before = db_state(world.db)
    response = world.client.post(
        f"{API}/orders/{order_id}/drafts", json={"body": "late draft"}, headers=creator.headers
    )
    body = assert_problem(response, 409, "order_not_in_state")
    assert body["state"] == "completed" and body["allowed_actions"] == []
    for path, who, payload in (
        ("/cancel", brand, {"reason": "too late"}),
        ("/cancel", creator, {"reason": "too late"}),
        ("/disputes", creator, {"reason": "too late"}),
        ("/publication", creator, {"post_url": "https://x.example/again"}),
    ):
        response = world.client.post(
            f"{API}/orders/{order_id}{path}", json=payload, headers=who.headers
        )
        assert_problem(response, 409, "order_not_in_state")
    assert _order_snapshot(world, order_id, brand) == snapshot
    assert db_state(world.db) == before


def test_resolving_a_resolved_dispute_is_409(world: World) -> None:
    order_id, brand, _ = world.to_state("disputed")
    staff = world.staff()
    dispute_id = world.get_order(order_id, staff)["open_dispute_id"]
    ok(
        world.client.post(
            f"{API}/disputes/{dispute_id}/resolve",
            json={"resolution": "release", "note": "work was done"},
            headers=staff.headers,
        )
    )
    snapshot = _order_snapshot(world, order_id, brand)
    before = db_state(world.db)
    for body, key in (
        ({"resolution": "refund", "note": "changed my mind"}, None),
        ({"resolution": "release", "note": "work was done"}, None),
        ({"resolution": "split", "creator_share_bp": 5000, "note": "half"}, "fresh-key-1"),
    ):
        headers = staff.headers | ({"Idempotency-Key": key} if key else {})
        response = world.client.post(
            f"{API}/disputes/{dispute_id}/resolve", json=body, headers=headers
        )
        assert_problem(response, 409, "dispute_resolved")
    assert _order_snapshot(world, order_id, brand) == snapshot
    assert db_state(world.db) == before


def test_other_order_actions_out_of_turn_are_409(world: World) -> None:
    client = world.client
    staff = world.staff()
    # given a cancelled, a published and a disputed order
    cancelled, brand, creator = world.to_state("awaiting_draft")
    ok(client.post(f"{API}/orders/{cancelled}/cancel", json={"reason": "x"}, headers=brand.headers))
    published, brand2, creator2 = world.to_state("published")
    disputed, brand3, creator3 = world.to_state("disputed")
    snapshots = {o: _order_snapshot(world, o, staff) for o in (cancelled, published, disputed)}
    before = db_state(world.db)
    wrong = []
    for order_id, who, path, body in (
        # a cancelled order cannot be cancelled again, disputed, drafted on or measured
        (cancelled, brand, "/cancel", {"reason": "again"}),
        (cancelled, creator, "/disputes", {"reason": "x"}),
        (cancelled, creator, "/drafts", {"body": "b"}),
        (cancelled, staff, "/metrics", {"taken_at": now().isoformat()}),
        # a published order cannot be cancelled, drafted on or published again
        (published, brand2, "/cancel", {"reason": "x"}),
        (published, creator2, "/drafts", {"body": "b"}),
        (published, creator2, "/publication", {"post_url": "https://x.example/2"}),
        # a disputed order takes no second dispute and no draft
        (disputed, brand3, "/disputes", {"reason": "again"}),
        (disputed, creator3, "/drafts", {"body": "b"}),
    ):
        # when the action is tried, then it is a 409 and the order is as it was
        response = client.post(f"{API}/orders/{order_id}{path}", json=body, headers=who.headers)
        problem = mismatch(response, 409, "order_not_in_state")
        if problem:
            wrong.append(problem)
    assert wrong == []
    assert {o: _order_snapshot(world, o, staff) for o in snapshots} == snapshots
    assert db_state(world.db) == before


def test_offers_and_campaigns_out_of_turn_are_409(world: World) -> None:
    client = world.client
    brand, creator = world.brand(), world.creator()
    campaign = world.campaign(brand)
    application = world.application(creator, campaign)
    accepted = ok(
        client.post(f"{API}/applications/{application['id']}/accept", headers=brand.headers), 201
    )
    orders_before = ok(client.get(f"{API}/orders", headers=brand.headers))
    before = db_state(world.db)
    wrong = []
    for who, path, body, code in (
        (brand, f"/applications/{application['id']}/accept", None, "not_pending"),
        (brand, f"/applications/{application['id']}/reject", None, "not_pending"),
        (creator, f"/applications/{application['id']}/withdraw", None, "not_pending"),
        (
            creator,
            f"/campaigns/{campaign['id']}/applications",
            {"proposal": "again", "quote_amount": 5, "currency": "CNY"},
            "already_applied",
        ),
        (brand, f"/campaigns/{campaign['id']}/open", None, "campaign_not_in_state"),
        (brand, f"/campaigns/{campaign['id']}/reopen", None, "campaign_not_in_state"),
        (brand, f"/campaigns/{campaign['id']}/complete", None, "campaign_not_in_state"),
        (brand, f"/campaigns/{campaign['id']}/cancel", None, "campaign_has_active_orders"),
    ):
        problem = mismatch(client.post(API + path, json=body, headers=who.headers), 409, code)
        if problem:
            wrong.append(problem)
    assert wrong == []
    assert ok(client.get(f"{API}/orders", headers=brand.headers)) == orders_before
    assert [o["id"] for o in orders_before["items"]] == [accepted["order"]["id"]]
    assert db_state(world.db) == before


def test_the_wrong_party_is_403_and_changes_nothing(scene: Scene) -> None:
    staff = scene.staff
    before = db_state(scene.world.db)
    wrong = []
    for who, template, body, code in (
        (scene.creator, "/orders/{order}/drafts/{draft}/approve", None, "forbidden"),
        (scene.brand, "/orders/{order}/drafts", {"body": "ghostwritten"}, "forbidden"),
        (
            scene.brand,
            "/orders/{order}/metrics",
            {"taken_at": now().isoformat()},
            "metrics_source_not_allowed",
        ),
        (
            scene.brand,
            "/disputes/{missing}/resolve",
            {"resolution": "refund", "note": "n"},
            "staff_only",
        ),
        (scene.creator, "/campaigns", scene.world.campaign_body(), "brand_only"),
        (
            staff,
            "/campaigns/{campaign}/applications",
            {"proposal": "p", "quote_amount": 5, "currency": "CNY"},
            "creator_only",
        ),
    ):
        response = scene.client.post(scene.url(template), json=body, headers=who.headers)
        problem = mismatch(response, 403, code)
        if problem:
            wrong.append(problem)
    assert wrong == []
    assert db_state(scene.world.db) == before


# -- every error is problem+json ------------------------------------------------------------


def test_every_error_status_is_problem_json(scene: Scene) -> None:
    client, brand = scene.client, scene.brand
    json_headers = brand.headers | {"content-type": "application/json"}
    samples = {
        400: client.post(f"{API}/campaigns", content=b"{", headers=json_headers),
        401: client.get(f"{API}/me"),
        403: client.post(
            f"{API}/campaigns", json=scene.world.campaign_body(), headers=scene.creator.headers
        ),
        404: client.get(f"{API}/orders/{MISSING}", headers=brand.headers),
        405: client.put(f"{API}/orders", headers=brand.headers),
        409: client.post(scene.url("/campaigns/{campaign}/open"), headers=brand.headers),
        413: client.post(f"{API}/campaigns", content=b" " * (LIMIT + 1), headers=json_headers),
        422: client.post(f"{API}/campaigns", json={}, headers=brand.headers),
    }
    for status, response in samples.items():
        assert_problem(response, status)


# -- inputs that once reached the database as 500s ------------------------------------------


def test_huge_follower_bounds_are_a_422(world: World) -> None:
    # discovery's bounds reach an integer column: beyond 64 bits they must be refused up front
    brand = world.brand()
    wrong = []
    for query in (
        "min_followers=100000000000000000000",
        "min_followers=9223372036854775808",
        "max_followers=9223372036854775807",  # the service adds one
        "max_followers=100000000000000000000",
    ):
        response = world.client.get(f"{API}/creators?{query}", headers=brand.headers)
        problem = mismatch(response, 422, "validation_failed")
        if problem is None and error_fields(response.json()) != {f"query.{query.split('=')[0]}"}:
            problem = str(response.json()["errors"])
        if problem:
            wrong.append(f"{query}: {problem}")
    assert wrong == []


def test_timestamps_that_cannot_be_stored_are_a_422(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand, open_it=False)
    before = db_state(world.db)
    wrong = []
    for field, value in (
        ("starts_at", "9999-12-31T23:59:59-14:00"),  # after 9999 in UTC
        ("ends_at", "0001-01-01T00:00:00+14:00"),  # before year 1 in UTC
        ("applications_close_at", "9999-12-31T23:59:59-14:00"),
        ("applications_close_at", "2031-01-01T00:00:00"),  # no time zone
    ):
        for method in ("POST", "PATCH"):
            if method == "POST":
                response = world.client.post(
                    f"{API}/campaigns",
                    json=world.campaign_body(**{field: value}),
                    headers=brand.headers,
                )
            else:
                response = world.client.patch(
                    f"{API}/campaigns/{campaign['id']}",
                    json={field: value},
                    headers=brand.headers,
                )
            problem = mismatch(response, 422)
            if problem is None and field not in error_fields(response.json()):
                problem = str(response.json()["errors"])
            if problem:
                wrong.append(f"{method} {field}={value}: {problem}")
    assert wrong == []
    assert db_state(world.db) == before


def test_an_unknown_payout_currency_is_a_422(world: World) -> None:
    creator = world.creator()
    method = ok(
        world.client.post(
            f"{API}/payout-methods",
            json={"kind": "alipay", "holder_name": "Lin", "account_number": "13800138000"},
            headers=creator.headers,
        ),
        201,
    )
    before = db_state(world.db)
    response = world.client.post(
        f"{API}/payouts",
        json={"amount": 100_000, "currency": "ZZZ", "payout_method_id": method["id"]},
        headers=creator.headers,
    )
    assert db_state(world.db) == before
    body = assert_problem(response, 422)
    assert error_fields(body) == {"currency"}


NUL_REQUESTS: list[tuple[str, str, str | None, Any]] = [
    # (method, path, who, JSON body or "campaign" for a brief named with a NUL)
    ("GET", "/orders/a%00b", "brand", None),
    ("GET", "/creators/a%00b", "brand", None),
    ("GET", "/organizations/a%00b", "brand", None),
    ("GET", "/orders?cursor=" + _b64(b"ord_\x00x"), "brand", None),
    ("GET", "/orders?campaign_id=cmp%00", "brand", None),
    ("GET", "/marketplace/campaigns?q=serum%00", "creator", None),
    ("GET", "/creators?q=%00", "brand", None),
    ("POST", "/auth/token", None, None),
    (
        "POST",
        "/auth/register",
        None,
        {
            "kind": "creator",
            "email": "nul@example.com",
            "password": PASSWORD,
            "display_name": "Nul\u0000Byte",
        },
    ),
    ("POST", "/campaigns", "brand", "campaign"),
    (
        "POST",
        "/campaigns/{campaign}/invitations",
        "brand",
        {"creator_id": "cr_\u0000", "offer_amount": 100},
    ),
    ("POST", "/orders/{order}/disputes", "creator", {"reason": "bad\u0000draft"}),
]


def test_nul_characters_are_refused_not_a_500(
    scene: Scene, backend: str, request: pytest.FixtureRequest
) -> None:
    wrong = []
    for method, template, who, body in NUL_REQUESTS:
        if body == "campaign":
            body = scene.world.campaign_body(name="Spring\u0000serum")
        form = {"username": "nul\x00@example.com", "password": "x"} if "token" in template else None
        response = scene.client.request(
            method, scene.url(template), json=body, data=form, headers=scene.who(who)
        )
        if response.status_code >= 500:
            wrong.append(f"{method} {template}: {response.status_code}")
        elif response.status_code >= 400 and (problem := mismatch(response, response.status_code)):
            wrong.append(problem)
    assert wrong == []
