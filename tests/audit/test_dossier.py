"""GET /orders/{id}/dossier: one ZIP with the contract, drafts and their checks, approvals,
publication, metrics, money, disputes, the order's events and the audit entries, a summary
page and a manifest of sha256 sums; each export is itself audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

from pappus.kit.clock import clock
from tests.fixtures.builders import World, ok


def _files(world: World, order_id: str, who: object) -> dict[str, bytes]:
    response = world.client.get(f"/api/v1/orders/{order_id}/dossier", headers=who.headers)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f"order-{order_id}-dossier.zip" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def test_a_completed_order_dossier_holds_every_record_and_its_manifest(world: World) -> None:
    order_id, brand, creator = world.order()
    blocked = ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/drafts",
            json={"title": "t", "body": "全网第一的精华", "hashtags": []},
            headers=creator.headers,
        ),
        201,
    )
    assert blocked["status"] == "blocked"
    draft_id = world.submit_draft(order_id, creator)
    world.approve(order_id, draft_id, brand)
    world.publish(order_id, creator)
    ok(world.metrics(order_id, world.staff(), views=1200, likes=80), 201)
    clock.advance(timedelta(days=8))
    world.sweep()
    files = _files(world, order_id, brand)
    manifest = json.loads(files.pop("manifest.json"))
    assert set(manifest["files"]) == set(files)
    for name, data in files.items():
        assert manifest["files"][name] == hashlib.sha256(data).hexdigest(), name
    contract = json.loads(files["contract.json"])
    assert contract["contract"]["money"]["price_amount"] == 500_000
    drafts = json.loads(files["drafts.json"])
    assert [d["status"] for d in drafts] == ["blocked", "approved"]
    assert drafts[0]["compliance"]["findings"][0]["match"] == "全网第一"
    events = json.loads(files["events.json"])
    assert events["chain_intact"] is True
    assert [e["action"] for e in events["events"]][-1] == "complete"
    money = list(csv.DictReader(io.StringIO(files["money.csv"].decode())))
    kinds = {m["transaction_kind"] for m in money}
    assert {"escrow_hold", "escrow_release"} <= kinds, kinds
    metrics = list(csv.DictReader(io.StringIO(files["metrics.csv"].decode())))
    assert [m["views"] for m in metrics] == ["1200"]
    trail = json.loads(files["audit.json"])
    actions = [a["action"] for a in trail]
    assert "order.approve_draft" in actions and "ledger.transfer" in actions
    assert [a["id"] for a in trail] == sorted(a["id"] for a in trail)
    html = files["summary.html"].decode()
    assert order_id in html and "全网第一" in html and "intact" in html


def test_the_dossier_is_for_the_order_parties_and_each_export_is_audited(world: World) -> None:
    order_id, brand, creator = world.order()
    stranger = world.brand(funded=0)
    assert (
        world.client.get(f"/api/v1/orders/{order_id}/dossier", headers=stranger.headers).status_code
        == 404
    )
    _files(world, order_id, creator)
    staff = world.staff()
    _files(world, order_id, staff)
    reads = ok(
        world.client.get(
            "/api/v1/audit",
            params={"action": "personal_data.read", "subject_id": order_id},
            headers=staff.headers,
        )
    )
    assert [e["actor_kind"] for e in reads["items"]] == ["staff", "creator"]
