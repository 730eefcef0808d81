"""Verified contact: a code mailed to the creator's contact address, its limits, and what
brands see (a flag, a discovery filter; the address only with an order)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from pappus.config import Settings
from pappus.creators import search
from pappus.kit.clock import clock
from pappus.messaging import service as messaging
from tests.fixtures.builders import Who, World, ok

API = "/api/v1"
REQUEST = f"{API}/creators/me/contact/verification"
CONFIRM = f"{API}/creators/me/contact/verification/confirm"


@pytest.fixture(autouse=True)
def _refresh_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "REFRESH_EVERY_SECONDS", 0.0)


def latest_code(world: World, address: str) -> str:
    """The code in the newest message to `address`, as the creator would read it."""
    with world.db.unit_of_work(write=False) as session:
        found = messaging.outbox(session, recipient=address, limit=1)
    assert found, f"no message to {address}"
    match = re.search(r"\b(\d{6})\b", found[0].body)
    assert match, found[0].body
    return match.group(1)


def ask(world: World, who: Who, status: int = 202) -> dict[str, Any]:
    return ok(world.client.post(REQUEST, headers=who.headers), status)


def confirm(world: World, who: Who, code: str) -> Any:
    return world.client.post(CONFIRM, json={"code": code}, headers=who.headers)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_code_by_mail_verifies_the_contact_and_brands_see_only_the_flag(world: World) -> None:
    creator = world.creator(followers=30_000)
    other = world.creator(followers=30_000)
    brand = world.brand()

    sent = ask(world, creator)
    assert sent["channel"] == "email"
    assert sent["address"] == "c***@example.com"
    assert sent["attempts_left"] == 5
    code = latest_code(world, creator.email)
    with world.db.unit_of_work(write=False) as session:
        message = messaging.outbox(session, recipient=creator.email, limit=1)[0]
        assert message.status == "queued" and message.purpose == "contact_verification"
        assert code not in message.subject  # only the body, which is cleared once sent

    # Without a mail server the message is held for the operator, not lost.
    assert messaging.deliver(world.db, message.id, Settings(smtp_url=None)) == "held"

    refused = confirm(world, creator, wrong(code))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "code_invalid"
    assert refused.json()["attempts_left"] == 4
    # The wrong try was kept although the answer was an error.
    assert confirm(world, creator, wrong(code)).json()["attempts_left"] == 3

    me = ok(confirm(world, creator, f" {code} "))
    assert me["contact_email_verified_at"] is not None
    assert me["contact_verified"] is True

    public = ok(world.client.get(f"{API}/creators/{creator.creator_id}", headers=brand.headers))
    assert public["contact_verified"] is True
    assert "contact_email" not in public
    assert "contact_email_verified_at" not in public

    verified = ok(
        world.client.get(
            f"{API}/creators", params={"contact_verified": "true"}, headers=brand.headers
        )
    )
    assert [c["id"] for c in verified["items"]] == [creator.creator_id]
    unverified = ok(
        world.client.get(
            f"{API}/creators", params={"contact_verified": "false"}, headers=brand.headers
        )
    )
    assert [c["id"] for c in unverified["items"]] == [other.creator_id]

    again = world.client.post(REQUEST, headers=creator.headers)
    assert again.status_code == 409 and again.json()["code"] == "contact_already_verified"
    # The code is used up.
    assert confirm(world, creator, code).json()["code"] == "no_verification_pending"


def test_resend_limits_and_a_new_code_replaces_the_old(world: World) -> None:
    creator = world.creator()
    ask(world, creator)
    first = latest_code(world, creator.email)

    soon = world.client.post(REQUEST, headers=creator.headers)
    assert soon.status_code == 429
    assert soon.json()["code"] == "rate_limited"
    assert 1 <= int(soon.headers["Retry-After"]) <= 61
    assert soon.json()["retry_after_seconds"] == int(soon.headers["Retry-After"])

    codes = [first]
    for _ in range(4):
        clock.advance(timedelta(seconds=61))
        ask(world, creator)
        codes.append(latest_code(world, creator.email))
    clock.advance(timedelta(seconds=61))
    hourly = world.client.post(REQUEST, headers=creator.headers)
    assert hourly.status_code == 429
    assert "5 codes an hour" in hourly.json()["detail"]

    if codes[0] != codes[-1]:  # one in a million they coincide
        stale = confirm(world, creator, codes[0])
        assert stale.status_code == 422 and stale.json()["code"] == "code_invalid"
    ok(confirm(world, creator, codes[-1]))

    # An hour after the first, asking is allowed again (the creator is verified by now).
    clock.advance(timedelta(hours=1))
    assert world.client.post(REQUEST, headers=creator.headers).json()["code"] == (
        "contact_already_verified"
    )


def test_five_wrong_tries_use_the_code_up(world: World) -> None:
    creator = world.creator()
    ask(world, creator)
    code = latest_code(world, creator.email)
    for left in (4, 3, 2, 1):
        assert confirm(world, creator, wrong(code)).json()["attempts_left"] == left
    last = confirm(world, creator, wrong(code))
    assert last.status_code == 422 and last.json()["code"] == "code_exhausted"
    after = confirm(world, creator, code)  # even the right code, now
    assert after.status_code == 409 and after.json()["code"] == "no_verification_pending"
    me = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert me["contact_email_verified_at"] is None


def test_a_code_expires_after_fifteen_minutes(world: World) -> None:
    creator = world.creator()
    ask(world, creator)
    code = latest_code(world, creator.email)
    clock.advance(timedelta(minutes=15, seconds=1))
    late = confirm(world, creator, code)
    assert late.status_code == 422 and late.json()["code"] == "code_expired"
    assert confirm(world, creator, code).json()["code"] == "no_verification_pending"


def test_changing_the_address_unverifies_it_and_voids_codes_in_flight(world: World) -> None:
    creator = world.creator()
    ask(world, creator)
    ok(confirm(world, creator, latest_code(world, creator.email)))

    ok(
        world.client.patch(
            f"{API}/creators/me", json={"contact_email": "new@example.org"}, headers=creator.headers
        )
    )
    me = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert me["contact_email_verified_at"] is None and me["contact_verified"] is False

    clock.advance(timedelta(seconds=61))
    sent = ask(world, creator)
    assert sent["address"] == "n***@example.org"
    code = latest_code(world, "new@example.org")
    # The address changes again before the code is used: the code was for the old one.
    ok(
        world.client.patch(
            f"{API}/creators/me",
            json={"contact_email": "third@example.org"},
            headers=creator.headers,
        )
    )
    void = confirm(world, creator, code)
    assert void.status_code == 409 and void.json()["code"] == "no_verification_pending"

    # Setting the same address again keeps a verification.
    clock.advance(timedelta(seconds=61))
    ask(world, creator)
    ok(confirm(world, creator, latest_code(world, "third@example.org")))
    ok(
        world.client.patch(
            f"{API}/creators/me",
            json={"contact_email": "third@example.org", "bio": "hi"},
            headers=creator.headers,
        )
    )
    me = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert me["contact_verified"] is True


def test_refusals_without_an_address_without_a_code_and_for_non_creators(world: World) -> None:
    creator = world.creator()
    ok(
        world.client.patch(
            f"{API}/creators/me", json={"contact_email": None}, headers=creator.headers
        )
    )
    missing = world.client.post(REQUEST, headers=creator.headers)
    assert missing.status_code == 422 and missing.json()["code"] == "contact_missing"
    assert missing.json()["errors"][0]["field"] == "contact_email"

    nothing = confirm(world, creator, "123456")
    assert nothing.status_code == 409 and nothing.json()["code"] == "no_verification_pending"

    for bad in ("12345", "abcdef", "1234567", ""):
        malformed = confirm(world, creator, bad)
        assert malformed.status_code == 422, bad
        assert malformed.json()["code"] == "validation_failed"
    extra = world.client.post(
        CONFIRM, json={"code": "123456", "admin": True}, headers=creator.headers
    )
    assert extra.status_code == 422

    brand = world.brand()
    assert world.client.post(REQUEST, headers=brand.headers).status_code == 403
    assert world.client.post(REQUEST).status_code == 401
    with world.db.unit_of_work(write=False) as session:
        assert messaging.outbox(session) == []  # nothing was sent by any refusal
