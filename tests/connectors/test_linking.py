"""Linking a creator's social account through the sandbox platform's OAuth, over HTTP, and
syncing it: tokens encrypted at rest, state used once, failures that change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from huey.exceptions import RetryTask
from sqlalchemy import select

from pappus.connectors import service, tasks
from pappus.connectors.models import FollowerCount, SocialAccount
from pappus.jobs import use_database
from pappus.kit.clock import clock
from pappus.sandbox import world as w
from tests.connectors.conftest import WORLD, Sandbox
from tests.fixtures.builders import Who, World, ok

API = "/api/v1"


def start(world: World, creator: Who) -> dict[str, Any]:
    return ok(
        world.client.post(
            f"{API}/creators/me/social-accounts",
            json={"platform": "sandbox"},
            headers=creator.headers,
        ),
        201,
    )


def sign_in_on_the_platform(
    started: dict[str, Any], login: str, decision: str = "allow", password: str = "sandbox"
) -> str:
    """What the creator's browser does on the sandbox: open the consent page, sign in there,
    allow. Returns the Pappus callback path and query the platform redirects to."""
    url = started["authorization_url"]
    page = httpx.get(url)
    assert page.status_code == 200 and "password" in page.text
    query = dict(httpx.URL(url).params)
    form = {
        **{k: query[k] for k in ("client_id", "redirect_uri", "state", "scope")},
        "code_challenge": query["code_challenge"],
        "code_challenge_method": query["code_challenge_method"],
        "login": login,
        "password": password,
        "decision": decision,
    }
    base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    answer = httpx.post(f"{base}/oauth/authorize", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    assert location.path == f"{API}/connectors/sandbox/callback"
    return f"{location.path}?{location.query}"


def link(world: World, creator: Who, index: int) -> dict[str, Any]:
    callback = sign_in_on_the_platform(start(world, creator), w.account(WORLD, index).handle)
    return ok(world.client.get(callback))


def busy_account(min_followers: int = 5_000) -> int:
    return next(i for i in range(WORLD.accounts) if w.account(WORLD, i).followers >= min_followers)


def test_a_creator_links_an_account_and_a_sync_fills_the_catalog(
    world: World, sandbox: Sandbox
) -> None:
    # given a creator and a sandbox account with a real audience
    creator = world.creator(followers=1_500)
    index = busy_account()
    account = w.account(WORLD, index)
    # when the creator links it through the platform's own consent page
    linked = link(world, creator, index)
    # then the account is linked, with the platform's profile, and no token is shown
    assert linked["external_id"] == account.id and linked["handle"] == account.handle
    assert linked["followers"] == account.followers and linked["status"] == "active"
    assert "token" not in str(linked).lower().replace("sync", "")
    # and the tokens are stored encrypted
    with world.db.unit_of_work(write=False) as session:
        row = session.get(SocialAccount, linked["id"])
        assert row is not None and row.access_token_encrypted is not None
        assert row.access_token_encrypted.startswith("v1:") and "sbx_at" not in (
            row.access_token_encrypted + (row.refresh_token_encrypted or "")
        )
    # when the sync runs
    assert service.sync_account(world.db, linked["id"]) == "synced"
    # then the creator's catalog profile shows the platform's figures, not the self-report
    profile = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert profile["followers"] == account.followers
    assert profile["handle"] == account.handle and profile["primary_platform"] == "sandbox"
    assert profile["engagement_rate_bp"] is not None
    # and 90 days of follower history and the audience are stored
    with world.db.unit_of_work(write=False) as session:
        days = session.scalars(
            select(FollowerCount).where(FollowerCount.social_account_id == linked["id"])
        ).all()
        assert len(days) == w.HISTORY_DAYS
        assert max(days, key=lambda d: d.day).followers == account.followers
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert mine["items"][0]["audience"]["gender"]["female"] > 0
    # and a second sync corrects the history rather than duplicating it
    assert service.sync_account(world.db, linked["id"]) == "synced"
    with world.db.unit_of_work(write=False) as session:
        count = session.scalars(
            select(FollowerCount).where(FollowerCount.social_account_id == linked["id"])
        ).all()
        assert len(count) == w.HISTORY_DAYS


def test_the_engagement_rate_is_the_median_of_settled_posts(world: World, sandbox: Sandbox) -> None:
    creator = world.creator()
    index = busy_account(20_000)
    linked = link(world, creator, index)
    service.sync_account(world.db, linked["id"])
    account = w.account(WORLD, index)
    posts = w.posts(WORLD, account)[:30]
    at = w.now(WORLD)
    rates = sorted(
        (p.metrics.likes + p.metrics.saves + p.metrics.comments + p.metrics.shares)
        / account.followers
        for p in posts
        if at - p.published_at >= service.SETTLED_AFTER
    )
    middle = len(rates) // 2
    median = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert mine["items"][0]["engagement_rate_bp"] == round(median * 10_000)


def test_an_oauth_state_works_once_and_only_in_time(world: World, sandbox: Sandbox) -> None:
    creator = world.creator()
    callback = sign_in_on_the_platform(start(world, creator), w.account(WORLD, 5).id)
    ok(world.client.get(callback))
    replay = world.client.get(callback)
    assert replay.status_code == 422 and replay.json()["code"] == "invalid_oauth_state"
    late = sign_in_on_the_platform(start(world, creator), w.account(WORLD, 6).id)
    clock.advance(timedelta(minutes=11))
    expired = world.client.get(late)
    assert expired.status_code == 422 and "expired" in expired.json()["detail"]
    forged = world.client.get(f"{API}/connectors/sandbox/callback?state=forged&code=x")
    assert forged.status_code == 422
    unknown = world.client.get(f"{API}/connectors/myspace/callback?state=x&code=y")
    assert unknown.status_code == 404
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert [a["external_id"] for a in mine["items"]] == [w.account(WORLD, 5).id]


def test_a_refusal_on_the_platform_links_nothing(world: World, sandbox: Sandbox) -> None:
    creator = world.creator()
    callback = sign_in_on_the_platform(start(world, creator), w.account(WORLD, 8).id, "deny")
    refused = world.client.get(callback)
    assert refused.status_code == 422 and refused.json()["code"] == "link_refused"
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert mine["items"] == []


def test_one_platform_account_belongs_to_one_creator(world: World, sandbox: Sandbox) -> None:
    first, second = world.creator(), world.creator()
    link(world, first, 9)
    callback = sign_in_on_the_platform(start(world, second), w.account(WORLD, 9).id)
    taken = world.client.get(callback)
    assert taken.status_code == 409 and taken.json()["code"] == "social_account_taken"
    # the same creator linking again just refreshes the link
    again = link(world, first, 9)
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=first.headers))
    assert [a["id"] for a in mine["items"]] == [again["id"]]
    # once the first creator unlinks it, the second may link it
    ok(
        world.client.delete(
            f"{API}/creators/me/social-accounts/{again['id']}", headers=first.headers
        ),
        204,
    )
    moved = link(world, second, 9)
    theirs = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=second.headers))
    assert [a["id"] for a in theirs["items"]] == [moved["id"]]
    assert (
        ok(world.client.get(f"{API}/creators/me/social-accounts", headers=first.headers))["items"]
        == []
    )


def test_only_creators_link_and_only_their_own_accounts(world: World, sandbox: Sandbox) -> None:
    brand, creator, other = world.brand(), world.creator(), world.creator()
    refused = world.client.post(
        f"{API}/creators/me/social-accounts", json={"platform": "sandbox"}, headers=brand.headers
    )
    assert refused.status_code == 403
    bad = world.client.post(
        f"{API}/creators/me/social-accounts", json={"platform": "myspace"}, headers=creator.headers
    )
    assert bad.status_code == 422
    linked = link(world, creator, 12)
    theirs = world.client.post(
        f"{API}/creators/me/social-accounts/{linked['id']}/sync", headers=other.headers
    )
    assert theirs.status_code == 404


def test_a_failing_platform_changes_nothing_but_the_failure_count(
    world: World, sandbox: Sandbox
) -> None:
    creator = world.creator()
    linked = link(world, creator, busy_account())
    service.sync_account(world.db, linked["id"])
    before = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    sandbox.faults(failure_rate=1.0)
    with pytest.raises(service.ConnectorError) as failed:
        service.sync_account(world.db, linked["id"])
    assert failed.value.retryable
    after = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert after == before
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert mine["items"][0]["sync_failures"] == 1 and "503" in mine["items"][0]["last_sync_error"]
    # and the job retries it later, backing off, until it works
    use_database(world.db)
    with pytest.raises(RetryTask) as retry:
        tasks.sync_social_account_job.call_local(linked["id"])
    assert retry.value.delay == tasks.backoff_seconds(2) == 30
    sandbox.faults(failure_rate=0.0)
    assert tasks.sync_social_account_job.call_local(linked["id"]) == "synced"
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert mine["items"][0]["sync_failures"] == 0


def test_a_slow_platform_times_out_and_is_retried(world: World, sandbox: Sandbox) -> None:
    creator = world.creator()
    linked = link(world, creator, 14)
    sandbox.faults(slow_rate=1.0, slow_seconds=4.0)  # Pappus waits 2 s in these tests
    with pytest.raises(service.ConnectorError) as failed:
        service.sync_account(world.db, linked["id"])
    assert failed.value.retryable and "timed out" in str(failed.value)


def test_tokens_the_platform_refuses_mark_the_account_for_relinking(
    world: World, sandbox: Sandbox
) -> None:
    creator = world.creator()
    linked = link(world, creator, 15)
    with world.db.unit_of_work() as session:
        row = session.get(SocialAccount, linked["id"])
        assert row is not None
        row.refresh_token_encrypted = None  # as if the platform had revoked the grant
        row.token_expires_at = None
    assert service.sync_account(world.db, linked["id"]) == "needs_relink"
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert mine["items"][0]["status"] == "needs_relink"
    refused = world.client.post(
        f"{API}/creators/me/social-accounts/{linked['id']}/sync", headers=creator.headers
    )
    assert refused.status_code == 409


def test_an_expired_access_token_is_refreshed_before_syncing(
    world: World, sandbox: Sandbox
) -> None:
    creator = world.creator()
    linked = link(world, creator, 16)
    with world.db.unit_of_work(write=False) as session:
        row = session.get(SocialAccount, linked["id"])
        assert row is not None
        old = row.access_token_encrypted
    clock.advance(timedelta(hours=2))  # past the platform's one-hour access token
    assert service.sync_account(world.db, linked["id"]) == "synced"
    with world.db.unit_of_work(write=False) as session:
        row = session.get(SocialAccount, linked["id"])
        assert row is not None and row.access_token_encrypted != old


def test_unlinking_forgets_the_tokens(world: World, sandbox: Sandbox) -> None:
    creator = world.creator()
    linked = link(world, creator, 17)
    assert (
        world.client.delete(
            f"{API}/creators/me/social-accounts/{linked['id']}", headers=creator.headers
        ).status_code
        == 204
    )
    with world.db.unit_of_work(write=False) as session:
        row = session.get(SocialAccount, linked["id"])
        assert row is not None and row.status == "unlinked"
        assert row.access_token_encrypted is None and row.refresh_token_encrypted is None
    assert service.sync_account(world.db, linked["id"]) == "skipped"
    mine = ok(world.client.get(f"{API}/creators/me/social-accounts", headers=creator.headers))
    assert mine["items"] == []


def test_the_periodic_resync_skips_fresh_and_recently_failing_accounts(
    world: World, sandbox: Sandbox
) -> None:
    creator = world.creator()
    synced = link(world, creator, 20)
    failing = link(world, world.creator(), 21)
    never = link(world, world.creator(), 22)
    assert service.sync_account(world.db, synced["id"]) == "synced"
    sandbox.faults(failure_rate=1.0)
    with pytest.raises(service.ConnectorError):
        service.sync_account(world.db, failing["id"])
    sandbox.faults(failure_rate=0.0)
    assert set(service.accounts_due(world.db)) == {never["id"]}
    clock.advance(service.RETRY_FAILING_AFTER + timedelta(minutes=1))
    assert set(service.accounts_due(world.db)) == {never["id"], failing["id"]}
    clock.advance(service.SYNC_EVERY)
    assert set(service.accounts_due(world.db)) == {never["id"], failing["id"], synced["id"]}
