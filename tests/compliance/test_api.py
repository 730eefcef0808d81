# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The compliance API: the checker, the packs, staff versions, and drafts that cannot be
approved while they break a rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pappus.compliance.packs import shipped_packs
from pappus.kit.clock import clock, now
from tests.fixtures.builders import World, ok


def _check(world: World, who: Any, **body: Any) -> Any:
    return world.client.post("/api/v1/compliance/check", json=body, headers=who.headers)


def test_check_returns_findings_with_spans_references_and_pack_versions(world: World) -> None:
    creator = world.creator()
    body = ok(
        _check(
            world,
            creator,
            text="這款面霜是國家級認證，第一次用就愛上了",
            platform="xiaohongshu",
            category="skincare",
        )
    )
    assert body["jurisdictions"] == ["CN"]
    assert "cn-advertising-law@1" in body["packs"]
    assert body["blocking"] == 1 and body["warnings"] == 0
    (finding,) = body["findings"]
    assert finding["match"] == "國家級" and (finding["start"], finding["end"]) == (5, 8)
    assert finding["rule_id"] == "cn-ad-9-3-superlative"
    assert "第九条" in finding["reference"] and finding["suggestion"]


def test_check_rejects_bad_input_with_the_field(world: World) -> None:
    creator = world.creator()
    for body, field in [
        ({"text": 5}, "text"),
        ({"text": "x", "sponsored": "yes"}, "sponsored"),
        ({"text": "x", "category": "weapons"}, "category"),
        ({"text": "x", "jurisdiction": "china"}, "jurisdiction"),
        ({"text": "x" * 20_001}, "text"),
        ({"text": "x", "surprise": 1}, "surprise"),
    ]:
        response = _check(world, creator, **body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text
    assert world.client.post("/api/v1/compliance/check", json={"text": "x"}).status_code == 401


def test_packs_list_and_one_pack(world: World) -> None:
    brand = world.brand(funded=0)
    listed = ok(world.client.get("/api/v1/compliance/packs", headers=brand.headers))
    assert {p["id"] for p in listed["items"]} == {p.id for p in shipped_packs()}
    assert all(p["in_force"] and p["origin"] == "shipped" for p in listed["items"])
    us = ok(world.client.get("/api/v1/compliance/packs?jurisdiction=US", headers=brand.headers))
    assert [p["id"] for p in us["items"]] == ["us-ftc-endorsement"]
    one = ok(world.client.get("/api/v1/compliance/packs/us-ftc-endorsement", headers=brand.headers))
    assert one["version"] == 1 and one["definition"]["rules"][0]["reference"]
    missing = world.client.get("/api/v1/compliance/packs/nope", headers=brand.headers)
    assert missing.status_code == 404
    missing = world.client.get(
        "/api/v1/compliance/packs/us-ftc-endorsement?version=9", headers=brand.headers
    )
    assert missing.status_code == 404


def _version_two(**changes: Any) -> dict[str, Any]:
    pack = next(p for p in shipped_packs() if p.id == "us-ftc-endorsement")
    definition = pack.model_dump(mode="json")
    definition["version"] = 2
    definition["rules"][1]["terms"].append("#bff")
    definition.update(changes)
    return definition


def test_staff_add_a_version_and_checks_use_it_from_its_date(world: World) -> None:
    staff = world.staff()
    brand = world.brand(funded=0)
    body = {"pack": _version_two(), "note": "the FTC also names #bff"}
    assert (
        world.client.post("/api/v1/compliance/packs", json=body, headers=brand.headers).status_code
        == 403
    )
    created = ok(
        world.client.post("/api/v1/compliance/packs", json=body, headers=staff.headers), 201
    )
    assert created["origin"] == "staff" and created["in_force"] and created["created_by"]
    result = ok(_check(world, brand, text="#ad love it #bff", platform="instagram"))
    assert result["packs"] == ["us-ftc-endorsement@2"]
    assert [f["match"] for f in result["findings"]] == ["#bff"]
    shown = ok(
        world.client.get("/api/v1/compliance/packs/us-ftc-endorsement", headers=brand.headers)
    )
    assert (shown["version"], shown["note"]) == (2, "the FTC also names #bff")
    assert shown["created_by"] == staff.user_id and shown["created_at"]
    # The same version again is refused and changes nothing.
    again = world.client.post("/api/v1/compliance/packs", json=body, headers=staff.headers)
    assert again.status_code == 409 and again.json()["code"] == "pack_version_exists"
    versions = ok(
        world.client.get(
            "/api/v1/compliance/packs?all_versions=true&jurisdiction=US", headers=staff.headers
        )
    )
    assert [(p["version"], p["in_force"]) for p in versions["items"]] == [(1, False), (2, True)]
    # A version dated in the future waits for its date.
    future = (now() + timedelta(days=30)).date().isoformat()
    later = {"pack": _version_two(version=3, effective_from=future), "note": "next month"}
    ok(world.client.post("/api/v1/compliance/packs", json=later, headers=staff.headers), 201)
    assert ok(_check(world, brand, text="#ad", platform="instagram"))["packs"] == [
        "us-ftc-endorsement@2"
    ]
    clock.advance(timedelta(days=31))
    assert ok(_check(world, brand, text="#ad", platform="instagram"))["packs"] == [
        "us-ftc-endorsement@3"
    ]


def test_an_invalid_pack_is_refused_naming_the_field(world: World) -> None:
    staff = world.staff()
    bad = _version_two()
    bad["rules"][0]["patterns"] = ["(unclosed"]
    response = world.client.post(
        "/api/v1/compliance/packs", json={"pack": bad}, headers=staff.headers
    )
    assert response.status_code == 422 and "does not compile" in response.json()["detail"]
    bad = _version_two()
    bad["rules"].append(dict(bad["rules"][0]))
    response = world.client.post(
        "/api/v1/compliance/packs", json={"pack": bad}, headers=staff.headers
    )
    assert response.status_code == 422 and "unique" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "pack"
    listed = ok(
        world.client.get("/api/v1/compliance/packs?all_versions=true", headers=staff.headers)
    )
    assert all(p["version"] == 1 for p in listed["items"])


# -- drafts ---------------------------------------------------------------------------------


def _submit(world: World, order_id: str, creator: Any, body: str) -> dict[str, Any]:
    return dict(
        ok(
            world.client.post(
                f"/api/v1/orders/{order_id}/drafts",
                json={"title": "冬季护肤", "body": body, "hashtags": ["护肤"]},
                headers=creator.headers,
            ),
            201,
        )
    )


def test_a_blocked_draft_goes_back_to_the_creator_without_using_a_revision(world: World) -> None:
    order_id, brand, creator = world.order(categories=["skincare"])
    draft = _submit(world, order_id, creator, "全网第一的精华，用了两周痘痘被治愈了")
    record = draft["compliance"]
    assert draft["status"] == "blocked" and draft["review_due_at"] is None
    assert record["blocking"] == 2 and record["packs"]
    assert [f["match"] for f in record["findings"]] == ["全网第一", "治愈"]
    order = world.get_order(order_id, creator)
    assert order["state"] == "changes_requested" and order["revisions_used"] == 0
    # The brand cannot approve it.
    response = world.client.post(
        f"/api/v1/orders/{order_id}/drafts/{draft['id']}/approve", headers=brand.headers
    )
    assert response.status_code == 409
    assert world.get_order(order_id, brand)["state"] == "changes_requested"
    # A fixed draft goes to the brand as usual.
    fixed = _submit(world, order_id, creator, "我很喜欢的精华，用了两周皮肤更水润了")
    assert fixed["status"] == "in_review" and fixed["compliance"]["blocking"] == 0
    world.approve(order_id, fixed["id"], brand)
    assert world.get_order(order_id, brand)["state"] == "approved"
    events = ok(world.client.get(f"/api/v1/orders/{order_id}/events", headers=brand.headers))
    assert [e["action"] for e in events["items"]][1:] == [
        "submit_draft",
        "return_for_compliance",
        "submit_draft",
        "approve_draft",
    ]


def test_staff_may_override_blocking_findings_with_a_recorded_reason(world: World) -> None:
    order_id, brand, creator = world.order()
    draft = _submit(world, order_id, creator, "这是国家级非遗工艺制作的茶具")
    assert draft["status"] == "blocked"
    url = f"/api/v1/orders/{order_id}/drafts/{draft['id']}/compliance-override"
    reason = {"reason": "国家级非物质文化遗产 is the official heritage title, not a superlative"}
    assert world.client.post(url, json=reason, headers=brand.headers).status_code == 403
    staff = world.staff()
    short = world.client.post(url, json={"reason": "ok"}, headers=staff.headers)
    assert short.status_code == 422
    allowed = world.get_order(order_id, staff)["allowed_actions"]
    assert "override_compliance" in [a["action"] for a in allowed]
    overridden = ok(world.client.post(url, json=reason, headers=staff.headers))
    assert overridden["status"] == "in_review"
    assert overridden["compliance_override"]["reason"] == reason["reason"]
    assert overridden["review_due_at"] is not None
    assert world.get_order(order_id, brand)["state"] == "draft_review"
    again = world.client.post(url, json=reason, headers=staff.headers)
    assert again.status_code == 409 and again.json()["code"] == "draft_not_blocked"
    world.approve(order_id, draft["id"], brand)
    events = ok(world.client.get(f"/api/v1/orders/{order_id}/events", headers=brand.headers))
    override = [e for e in events["items"] if e["action"] == "override_compliance"]
    assert override[0]["data"]["reason"] == reason["reason"]


def test_only_the_latest_blocked_draft_can_be_overridden(world: World) -> None:
    order_id, _, creator = world.order()
    first = _submit(world, order_id, creator, "国家级工艺")
    _submit(world, order_id, creator, "国家级工艺，再试一次")
    staff = world.staff()
    response = world.client.post(
        f"/api/v1/orders/{order_id}/drafts/{first['id']}/compliance-override",
        json={"reason": "the heritage title is an official one"},
        headers=staff.headers,
    )
    assert response.status_code == 409 and response.json()["code"] == "draft_superseded"
    clean_order, _, clean_creator = world.order()
    clean = _submit(world, clean_order, clean_creator, "我的真实使用感受")
    response = world.client.post(
        f"/api/v1/orders/{clean_order}/drafts/{clean['id']}/compliance-override",
        json={"reason": "nothing to override here at all"},
        headers=staff.headers,
    )
    assert response.status_code == 409 and response.json()["code"] == "draft_not_blocked"
