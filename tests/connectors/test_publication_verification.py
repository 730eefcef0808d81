# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""Publication verified through the connector: the creator publishes on the sandbox platform's
own app, submits the URL to Pappus, and Pappus reads the post back over HTTP and checks it.
Then the post's metrics are read on a schedule."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from huey.exceptions import RetryTask

from pappus.jobs import use_database
from pappus.kit.clock import clock
from pappus.orders import publishing, tasks
from pappus.orders.publishing import similarity
from pappus.sandbox import world as w
from tests.connectors.conftest import WORLD, Sandbox
from tests.connectors.test_linking import busy_account, link
from tests.fixtures.builders import Who, World, ok

API = "/api/v1"
TITLE = "Glow serum after two weeks"
BODY = (
    "用了两周的精华，早晚各一次，质地很清爽，上脸不黏。敏感肌也没有刺痛，第二天早上皮肤摸起来更水润。"
    " I used it morning and night for two weeks: light texture, no stickiness."
)
TAGS = ["护肤", "GlowSerum"]


class Platform:
    """The creator's side of the sandbox platform: its own app, signed in with the password."""

    def __init__(self, sandbox: Sandbox, index: int) -> None:
        self.url = sandbox.url
        login = f"{w.account(WORLD, index).handle}:sandbox".encode()
        self.headers = {"Authorization": "Basic " + base64.b64encode(login).decode()}
        self.open_id = w.account_id(index)

    def publish(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "title": TITLE,
            "text": BODY + " #护肤 #GlowSerum",
            "hashtags": TAGS,
            "partnership_label": True,
            "brand": "Glow",
            **overrides,
        }
        answer = httpx.post(f"{self.url}/app/v1/posts", json=body, headers=self.headers)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def edit(self, post_id: str, **changes: Any) -> None:
        answer = httpx.patch(
            f"{self.url}/app/v1/posts/{post_id}", json=changes, headers=self.headers
        )
        assert answer.status_code == 200, answer.text

    def take_down(self, post_id: str) -> None:
        answer = httpx.delete(f"{self.url}/app/v1/posts/{post_id}", headers=self.headers)
        assert answer.status_code == 204, answer.text


def approved_order(world: World, creator: Who) -> tuple[str, Who]:
    """An order on the sandbox platform whose draft (TITLE, BODY, TAGS) the brand approved."""
    order_id, brand, _ = world.order(creator=creator, platforms=["sandbox"])
    draft = ok(
        world.client.post(
            f"{API}/orders/{order_id}/drafts",
            json={"title": TITLE, "body": BODY, "hashtags": TAGS},
            headers=creator.headers,
        ),
        201,
    )
    world.approve(order_id, draft["id"], brand)
    return order_id, brand


def submit(world: World, order_id: str, creator: Who, url: str) -> httpx.Response:
    return world.client.post(
        f"{API}/orders/{order_id}/publication",
        json={"post_url": url, "platform": "sandbox"},
        headers=creator.headers,
    )


def failed_checks(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "publication_not_verified"
    return {c["check"] for c in problem["checks"] if not c["passed"]}


@pytest.fixture
def linked(world: World, sandbox: Sandbox) -> tuple[Who, Platform]:
    creator = world.creator()
    index = busy_account()
    link(world, creator, index)
    return creator, Platform(sandbox, index)


def test_a_post_that_passes_every_check_publishes_the_order_with_the_platforms_figures(
    world: World, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, brand = approved_order(world, creator)
    post = platform.publish()
    clock.advance(timedelta(hours=3))
    answer = submit(world, order_id, creator, post["url"])
    publication = ok(answer, 201)
    assert publication["verification_status"] == "verified"
    assert publication["external_post_id"] == post["id"]
    assert publication["post_status"] == "live"
    assert all(c["passed"] for c in publication["verification"]["checks"])
    # the platform's publication time, not the time the creator submitted it
    assert publication["published_at"] == post["published_at"].replace("+00:00", "Z") or (
        publication["published_at"][:19] == post["published_at"][:19]
    )
    assert world.get_order(order_id, brand)["state"] == "published"
    metrics = ok(world.client.get(f"{API}/orders/{order_id}/metrics", headers=brand.headers))
    assert [m["source"] for m in metrics["items"]] == ["connector"]
    assert metrics["items"][0]["views"] > 0


@pytest.mark.parametrize(
    ("post", "failed"),
    [
        ({"partnership_label": False}, {"disclosure_label"}),
        ({"hashtags": ["护肤"], "text": BODY}, {"hashtags"}),
        (
            {"title": "Weekend hike", "text": "Climbed the ridge at dawn, cold wind, great view."},
            {"matches_draft"},
        ),
    ],
    ids=["no-label", "missing-hashtag", "different-text"],
)
def test_a_post_that_fails_a_check_is_refused_and_changes_nothing(
    world: World, linked: tuple[Who, Platform], post: dict[str, Any], failed: set[str]
) -> None:
    creator, platform = linked
    order_id, brand = approved_order(world, creator)
    answer = submit(world, order_id, creator, platform.publish(**post)["url"])
    assert failed_checks(answer) == failed
    assert world.get_order(order_id, brand)["state"] == "approved"
    missing = world.client.get(f"{API}/orders/{order_id}/publication", headers=brand.headers)
    assert missing.status_code == 404


def test_switching_the_label_on_lets_the_same_post_through(
    world: World, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, _ = approved_order(world, creator)
    post = platform.publish(partnership_label=False)
    assert failed_checks(submit(world, order_id, creator, post["url"])) == {"disclosure_label"}
    platform.edit(post["id"], partnership_label=True)
    assert ok(submit(world, order_id, creator, post["url"]), 201)["verification_status"] == (
        "verified"
    )


def test_someone_elses_post_and_an_old_post_are_refused(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, _ = linked
    order_id, _ = approved_order(world, creator)
    stranger = Platform(sandbox, busy_account() + 1)
    theirs = stranger.publish()
    assert "author" in failed_checks(submit(world, order_id, creator, theirs["url"]))
    # a post of the creator's from before the order existed (generated history)
    old = w.posts(WORLD, w.account(WORLD, busy_account()))[-1]
    failed = failed_checks(submit(world, order_id, creator, f"{sandbox.url}/posts/{old.id}"))
    assert "published_after_order" in failed


def test_a_missing_post_a_foreign_url_and_an_unlinked_creator_get_clear_errors(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, _ = linked
    order_id, _ = approved_order(world, creator)
    gone = submit(world, order_id, creator, f"{sandbox.url}/posts/sbx_00000001_l9999")
    assert failed_checks(gone) == {"post_exists"}
    foreign = submit(world, order_id, creator, "https://www.xiaohongshu.com/explore/abc")
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "post_url"
    # a creator with no linked account on the order's platform
    other = world.creator()
    unlinked_order, _ = approved_order(world, other)
    answer = submit(world, unlinked_order, other, f"{sandbox.url}/posts/x")
    assert answer.status_code == 422
    assert answer.json()["code"] == "social_account_required"
    # a platform the brief does not name
    wrong = world.client.post(
        f"{API}/orders/{order_id}/publication",
        json={"post_url": "https://example.com/p/1", "platform": "weibo"},
        headers=creator.headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "platform"


def test_a_platform_outage_is_a_502_that_changes_nothing(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, brand = approved_order(world, creator)
    post = platform.publish()
    sandbox.faults(failure_rate=1.0)
    answer = submit(world, order_id, creator, post["url"])
    assert answer.status_code == 502
    assert answer.json()["code"] == "platform_unavailable"
    assert world.get_order(order_id, brand)["state"] == "approved"
    sandbox.faults(failure_rate=0.0)
    assert ok(submit(world, order_id, creator, post["url"]), 201)


def test_metrics_are_read_on_a_schedule_and_a_taken_down_post_is_noticed(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, brand = approved_order(world, creator)
    post = platform.publish()
    clock.advance(timedelta(hours=2))
    publication = ok(submit(world, order_id, creator, post["url"]), 201)
    # nothing is due until the interval has passed
    assert publication["id"] not in publishing.publications_due(world.db)
    clock.advance(timedelta(hours=20))
    assert publication["id"] in publishing.publications_due(world.db)
    use_database(world.db)
    assert tasks.snapshot_publication_job.call_local(publication["id"]) == "recorded"
    series = ok(world.client.get(f"{API}/orders/{order_id}/metrics", headers=brand.headers))
    views = [m["views"] for m in sorted(series["items"], key=lambda m: m["taken_at"])]
    assert len(views) == 2 and views[1] > views[0]
    assert publication["id"] not in publishing.publications_due(world.db)
    seen = ok(world.client.get(f"{API}/orders/{order_id}/publication", headers=brand.headers))
    audit = seen["verification"]["comment_audit"]
    assert audit["comments"] > 0 and 0 <= audit["suspicious"] <= audit["comments"]
    # the creator switches the label off, then takes the post down
    platform.edit(post["id"], partnership_label=False)
    clock.advance(timedelta(hours=2))
    assert publishing.snapshot_publication(world.db, publication["id"]) == "recorded"
    seen = ok(world.client.get(f"{API}/orders/{order_id}/publication", headers=brand.headers))
    assert seen["post_status"] == "label_removed"
    platform.take_down(post["id"])
    clock.advance(timedelta(hours=2))
    assert publishing.snapshot_publication(world.db, publication["id"]) == "removed"
    seen = ok(world.client.get(f"{API}/orders/{order_id}/publication", headers=brand.headers))
    assert seen["post_status"] == "removed"


def test_a_failing_platform_is_retried_with_backoff_and_stores_nothing(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, brand = approved_order(world, creator)
    publication = ok(submit(world, order_id, creator, platform.publish()["url"]), 201)
    clock.advance(timedelta(hours=2))
    sandbox.faults(failure_rate=1.0)
    use_database(world.db)
    with pytest.raises(RetryTask):
        tasks.snapshot_publication_job.call_local(publication["id"])
    assert publishing.check_failures(world.db, publication["id"]) == 1
    series = ok(world.client.get(f"{API}/orders/{order_id}/metrics", headers=brand.headers))
    assert len(series["items"]) == 1
    sandbox.faults(failure_rate=0.0)
    assert publishing.snapshot_publication(world.db, publication["id"]) == "recorded"
    assert publishing.check_failures(world.db, publication["id"]) == 0


def test_similarity_reads_chinese_and_english_alike() -> None:
    assert similarity(BODY, BODY) == 1.0
    # full-width letters, case and punctuation do not count
    assert similarity("ＧＬＯＷ Serum!", "glow serum") == 1.0
    # adding a closing line keeps a post close; an unrelated text is far
    assert similarity(BODY, BODY + " 总之很推荐，回购了第二瓶。") > 0.8
    assert similarity(BODY, "今天去爬山，风很大，山顶的日出很美。") < 0.2
    assert similarity("", "") == 1.0 and similarity("a", "") == 0.0
