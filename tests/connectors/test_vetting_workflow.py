"""Vetting through the connector: a linked account scored from what the platform returns,
the staff review queue, decisions, appeals and re-scoring."""

from __future__ import annotations

import pytest

from pappus.creators import search
from pappus.jobs import use_database
from pappus.sandbox import world as w
from pappus.vetting import service, tasks
from tests.connectors.conftest import WORLD, Sandbox
from tests.connectors.test_linking import link
from tests.fixtures.builders import World, ok

API = "/api/v1"


def account_where(fraud: bool, kind: str | None = None) -> int:
    for index in range(WORLD.accounts):
        acc = w.account(WORLD, index)
        if acc.followers < 5_000 or bool(acc.fraud) != fraud:
            continue
        if kind is None or kind in acc.fraud:
            return index
    raise AssertionError("no such account in the test world")


def test_a_creator_with_bought_followers_is_flagged_and_reviewed(
    world: World, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "REFRESH_EVERY_SECONDS", 0.0)  # discovery sees changes at once
    creator = world.creator()
    link(world, creator, account_where(True, "bought_followers"))
    report = service.score_creator(world.db, str(creator.creator_id))
    assert report.flagged and "follower_authenticity" in report.red_flags
    brand, staff = world.brand(), world.staff()
    seen = ok(
        world.client.get(f"{API}/creators/{creator.creator_id}/vetting", headers=brand.headers)
    )
    names = {c["name"] for c in seen["components"]}
    assert {"follower_authenticity", "growth_spikes", "engagement_rate"} <= names
    assert all({"value", "benchmark", "weight", "subscore"} <= set(c) for c in seen["components"])
    assert seen["authenticity"]["sample_size"] == 200
    low, high = seen["authenticity"]["ci95"]
    assert low <= seen["authenticity"]["real_share"] <= high
    # the creator sees it too; the profile carries the score and waits for review
    mine = ok(
        world.client.get(f"{API}/creators/{creator.creator_id}/vetting", headers=creator.headers)
    )
    assert mine["id"] == seen["id"]
    profile = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert profile["vetting_status"] == "pending"
    assert profile["audience_quality_score"] == seen["score"]
    queue = ok(world.client.get(f"{API}/vetting/queue", headers=staff.headers))
    assert creator.creator_id in [item["creator_id"] for item in queue["items"]]
    # staff reject with a reason; the creator appeals; staff uphold the appeal
    ok(
        world.client.post(
            f"{API}/creators/{creator.creator_id}/vetting/decisions",
            json={"decision": "reject", "reason": "45% of sampled followers look fake"},
            headers=staff.headers,
        ),
        201,
    )
    appeal = ok(
        world.client.post(
            f"{API}/creators/me/vetting/appeals",
            json={"message": "I ran a giveaway in October"},
            headers=creator.headers,
        ),
        201,
    )
    again = world.client.post(
        f"{API}/creators/me/vetting/appeals", json={"message": "again"}, headers=creator.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "appeal_open"
    resolved = ok(
        world.client.post(
            f"{API}/vetting/appeals/{appeal['id']}/resolve",
            json={"outcome": "upheld", "note": "Giveaway confirmed"},
            headers=staff.headers,
        )
    )
    assert resolved["status"] == "upheld"
    twice = world.client.post(
        f"{API}/vetting/appeals/{appeal['id']}/resolve",
        json={"outcome": "dismissed", "note": "x"},
        headers=staff.headers,
    )
    assert twice.status_code == 409
    profile = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert profile["vetting_status"] == "approved"
    trail = ok(
        world.client.get(
            f"{API}/creators/{creator.creator_id}/vetting/decisions", headers=staff.headers
        )
    )
    assert [d["decision"] for d in trail["items"]] == ["approve", "reject"]
    # a re-score of an approved creator that still comes out flagged puts them back in review
    service.score_creator(world.db, str(creator.creator_id))
    profile = ok(world.client.get(f"{API}/creators/me", headers=creator.headers))
    assert profile["vetting_status"] == "flagged"
    found = ok(
        world.client.get(
            f"{API}/creators", params={"vetting_status": "flagged"}, headers=brand.headers
        )
    )
    assert creator.creator_id in [c["id"] for c in found["items"]]


def test_a_genuine_creator_scores_well_and_the_schedule_finds_who_is_due(
    world: World, sandbox: Sandbox
) -> None:
    creator = world.creator()
    link(world, creator, account_where(False))
    nobody = world.creator()
    assert str(creator.creator_id) in service.creators_due(world.db)
    assert str(nobody.creator_id) not in service.creators_due(world.db)  # nothing linked
    use_database(world.db)
    assert tasks.score_creator_job.call_local(str(creator.creator_id)) == "scored"
    assert tasks.score_creator_job.call_local(str(nobody.creator_id)) == "skipped"
    assert str(creator.creator_id) not in service.creators_due(world.db)
    staff = world.staff()
    report = ok(
        world.client.get(f"{API}/creators/{creator.creator_id}/vetting", headers=staff.headers)
    )
    assert report["flagged"] is False and report["score"] >= 60
    # other creators cannot read it; unknown creators are not found
    other = world.creator()
    hidden = world.client.get(f"{API}/creators/{creator.creator_id}/vetting", headers=other.headers)
    assert hidden.status_code == 403
    missing = world.client.get(f"{API}/creators/cr_nobody/vetting", headers=staff.headers)
    assert missing.status_code == 404
    not_scored = world.client.get(
        f"{API}/creators/{nobody.creator_id}/vetting", headers=staff.headers
    )
    assert not_scored.status_code == 404
