"""The catalog's profile beyond discovery: media kit and content examples, linked accounts
with their follower history for everyone, and followers that only a linked account sets."""

from __future__ import annotations

from pappus.connectors import service as connectors
from pappus.sandbox import world as w
from tests.connectors.conftest import WORLD, Sandbox
from tests.connectors.test_linking import busy_account, link
from tests.fixtures.builders import World, ok

API = "/api/v1"


def test_a_media_kit_and_content_examples_are_public(world: World) -> None:
    creator = world.creator()
    examples = [
        {"url": "https://example.com/p/1", "title": "Serum review", "format": "image_post"},
        {"url": "https://example.com/v/2", "platform": "sandbox"},
    ]
    body = {"media_kit_url": "https://example.com/kit.pdf", "content_examples": examples}
    ok(world.client.patch(f"{API}/creators/me", json=body, headers=creator.headers))
    brand = world.brand()
    seen = ok(world.client.get(f"{API}/creators/{creator.creator_id}", headers=brand.headers))
    assert seen["media_kit_url"] == "https://example.com/kit.pdf"
    assert [e["url"] for e in seen["content_examples"]] == [e["url"] for e in examples]
    assert seen["content_examples"][0]["format"] == "image_post"
    assert "contact_email" not in seen  # still private without an order
    # the media kit can be cleared; bad examples are refused and change nothing
    cleared = {"media_kit_url": None}
    assert (
        ok(world.client.patch(f"{API}/creators/me", json=cleared, headers=creator.headers))[
            "media_kit_url"
        ]
        is None
    )
    for wrong in (
        {"content_examples": [{"url": "not a url"}]},
        {"content_examples": [{"url": "https://e.com/x", "format": "hologram"}]},
        {"content_examples": [{"url": f"https://e.com/{n}"} for n in range(13)]},
        {"media_kit_url": "ftp://example.com/kit.pdf"},
    ):
        answer = world.client.patch(f"{API}/creators/me", json=wrong, headers=creator.headers)
        assert answer.status_code == 422, wrong
    again = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert len(again["content_examples"]) == 2


def test_linked_accounts_show_their_follower_history_and_own_the_follower_count(
    world: World, sandbox: Sandbox
) -> None:
    creator = world.creator(followers=1_500)
    index = busy_account()
    assert (
        ok(
            world.client.get(
                f"{API}/creators/{creator.creator_id}/social-accounts", headers=creator.headers
            )
        )["items"]
        == []
    )
    linked = link(world, creator, index)
    assert connectors.sync_account(world.db, linked["id"]) == "synced"
    brand = world.brand()
    accounts = ok(
        world.client.get(
            f"{API}/creators/{creator.creator_id}/social-accounts?days=365",
            headers=brand.headers,
        )
    )["items"]
    assert len(accounts) == 1
    account = accounts[0]
    assert account["platform"] == "sandbox" and account["handle"] == w.account(WORLD, index).handle
    assert "access_token" not in str(account) and "external_id" not in account
    history = [d["followers"] for d in account["follower_history"]]
    assert len(history) == w.HISTORY_DAYS and history[-1] == account["followers"]
    short = ok(
        world.client.get(
            f"{API}/creators/{creator.creator_id}/social-accounts?days=7", headers=brand.headers
        )
    )["items"][0]["follower_history"]
    assert 0 < len(short) <= 8
    # once an account is linked, the follower count is the platform's
    answer = world.client.patch(
        f"{API}/creators/me", json={"followers": 9_999_999}, headers=creator.headers
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "followers"
    profile = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert profile["followers"] == account["followers"]
    # unknown creators and out-of-range windows
    missing = world.client.get(f"{API}/creators/cr_nobody/social-accounts", headers=brand.headers)
    assert missing.status_code == 404
    wide = world.client.get(
        f"{API}/creators/{creator.creator_id}/social-accounts?days=0", headers=brand.headers
    )
    assert wide.status_code == 422
