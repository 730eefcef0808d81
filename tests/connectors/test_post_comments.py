"""Comments of a verified post: read from the sandbox platform over HTTP, classified once,
never stored twice, and summarised in the campaign report."""

from __future__ import annotations

from datetime import timedelta

from pappus.analytics import comments
from pappus.kit.clock import clock
from pappus.sentiment.model import classify
from tests.connectors.test_publication_verification import (
    API,
    Platform,
    approved_order,
    linked,  # noqa: F401  (a fixture)
    submit,
)
from tests.fixtures.builders import Who, World, ok


def test_comments_are_read_classified_and_summarised(
    world: World,
    linked: tuple[Who, Platform],  # noqa: F811
) -> None:
    creator, platform = linked
    order_id, brand = approved_order(world, creator)
    post = platform.publish()
    clock.advance(timedelta(hours=1))
    ok(submit(world, order_id, creator, post["url"]), 201)
    clock.advance(timedelta(days=2))
    synced = ok(world.client.post(f"{API}/orders/{order_id}/comments/sync", headers=brand.headers))
    stored = ok(
        world.client.get(f"{API}/orders/{order_id}/comments?limit=100", headers=brand.headers)
    )
    assert synced["new_comments"] == len(stored["items"]) > 0
    for comment in stored["items"]:
        verdict = classify(comment["text"])
        assert (comment["sentiment"], comment["sentiment_score"]) == (verdict.label, verdict.score)
    again = ok(world.client.post(f"{API}/orders/{order_id}/comments/sync", headers=brand.headers))
    assert again["new_comments"] == 0
    # The creator reads them but cannot trigger a read; a stranger sees nothing.
    ok(world.client.get(f"{API}/orders/{order_id}/comments", headers=creator.headers))
    refused = world.client.post(f"{API}/orders/{order_id}/comments/sync", headers=creator.headers)
    assert refused.status_code == 403
    negative = ok(
        world.client.get(
            f"{API}/orders/{order_id}/comments?sentiment=negative", headers=brand.headers
        )
    )
    assert all(c["sentiment"] == "negative" for c in negative["items"])

    campaign_id = world.get_order(order_id, brand)["contract"]["campaign_id"]
    report = ok(
        world.client.get(
            f"{API}/campaigns/{campaign_id}/report?competitor=Lancome&brand_term=Glow",
            headers=brand.headers,
        )
    )
    section = report["comments"]
    labels = [c["sentiment"] for c in stored["items"]]
    assert section["sentiment"]["comments"] == len(labels)
    assert section["sentiment"]["positive"] == labels.count("positive")
    assert section["sentiment"]["negative"] == labels.count("negative")
    names = [n["name"] for n in section["share_of_voice"]["names"]]
    assert names == ["brand", "Lancome"]
    for word in section["hot_words"]:
        assert word["comments"] >= 2
        assert word["comments"] == sum(
            1 for c in stored["items"] if word["word"] in comments.words_of(c["text"])
        )


def test_an_order_without_a_verified_post_has_nothing_to_read(world: World) -> None:
    order_id, brand, _ = world.order()
    response = world.client.post(f"{API}/orders/{order_id}/comments/sync", headers=brand.headers)
    assert response.status_code == 409 and response.json()["code"] == "no_verified_post"
