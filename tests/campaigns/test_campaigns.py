"""Campaign briefs, their life cycle, the marketplace, applications and invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pappus.campaigns import repository
from pappus.campaigns.models import Application, Campaign
from pappus.kit.clock import clock
from tests.fixtures.builders import Who, World, ok


def test_brief_keeps_every_field_and_starts_as_draft(world: World) -> None:
    brand = world.brand()
    body = world.campaign_body(
        campaign_type="product_seeding",
        compensation_model="fixed_plus_bonus",
        compensation={"fixed_fee_amount": 300_000, "bonus_cap_amount": 50_000},
        kpis=[{"metric": "views", "target": 5000}],
        creator_criteria={"tiers": ["koc"], "categories": ["beauty"], "min_audience_quality": 0},
        timeline={"draft_due_days": 5, "review_days": 2, "revision_limit": 1},
        usage_rights={"paid_ads": True, "duration_days": 30},
        visibility="invite_only",
    )
    created = ok(world.client.post("/api/v1/campaigns", json=body, headers=brand.headers), 201)
    assert created["status"] == "draft"
    fetched = ok(world.client.get(f"/api/v1/campaigns/{created['id']}", headers=brand.headers))
    for field in ("campaign_type", "compensation_model", "visibility", "budget_amount"):
        assert fetched[field] == body[field]
    assert fetched["compensation"]["bonus_cap_amount"] == 50_000
    assert fetched["timeline"]["revision_limit"] == 1
    assert fetched["usage_rights"]["paid_ads"] is True
    assert fetched["creator_criteria"]["tiers"] == ["koc"]


def test_inconsistent_brief_is_refused_with_the_reason(world: World) -> None:
    brand = world.brand()
    response = world.client.post(
        "/api/v1/campaigns",
        json=world.campaign_body(compensation_model="fixed_plus_bonus"),
        headers=brand.headers,
    )
    assert response.status_code == 422
    assert "bonus_cap_amount" in response.json()["detail"]


def test_life_cycle_follows_its_table(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand, open_it=False)
    cid = campaign["id"]
    post = world.client.post
    assert post(f"/api/v1/campaigns/{cid}/close", headers=brand.headers).status_code == 409
    assert ok(post(f"/api/v1/campaigns/{cid}/open", headers=brand.headers))["status"] == "open"
    assert ok(post(f"/api/v1/campaigns/{cid}/close", headers=brand.headers))["status"] == "closed"
    assert ok(post(f"/api/v1/campaigns/{cid}/reopen", headers=brand.headers))["status"] == "open"
    assert ok(post(f"/api/v1/campaigns/{cid}/close", headers=brand.headers))["status"] == "closed"
    done = ok(post(f"/api/v1/campaigns/{cid}/complete", headers=brand.headers))
    assert done["status"] == "completed" and done["completed_at"]
    refused = post(f"/api/v1/campaigns/{cid}/open", headers=brand.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "campaign_not_in_state"
    patch = world.client.patch(
        f"/api/v1/campaigns/{cid}", json={"name": "x"}, headers=brand.headers
    )
    assert patch.status_code == 409


def test_patch_validates_the_merged_brief(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand, open_it=False)
    response = world.client.patch(
        f"/api/v1/campaigns/{campaign['id']}",
        json={"compensation_model": "commission"},
        headers=brand.headers,
    )
    assert response.status_code == 422
    assert "commission_rate_bp" in response.json()["detail"]
    fine = ok(
        world.client.patch(
            f"/api/v1/campaigns/{campaign['id']}",
            json={"name": "Renamed", "budget_amount": 123_456},
            headers=brand.headers,
        )
    )
    assert (fine["name"], fine["budget_amount"]) == ("Renamed", 123_456)


def test_marketplace_shows_only_open_public_campaigns_taking_applications(world: World) -> None:
    brand = world.brand()
    creator = world.creator()
    public = world.campaign(brand, name="Public")
    world.campaign(brand, name="Invite only", visibility="invite_only")
    world.campaign(brand, name="Draft", open_it=False)
    closed = world.campaign(brand, name="Closed")
    ok(world.client.post(f"/api/v1/campaigns/{closed['id']}/close", headers=brand.headers))
    soon = (clock.now() + timedelta(days=1)).isoformat()
    world.campaign(brand, name="Closing tomorrow", applications_close_at=soon)
    names = [
        c["name"]
        for c in ok(world.client.get("/api/v1/marketplace/campaigns", headers=creator.headers))[
            "items"
        ]
    ]
    assert names == ["Closing tomorrow", "Public"]
    clock.advance(timedelta(days=2))
    names = [
        c["name"]
        for c in ok(world.client.get("/api/v1/marketplace/campaigns", headers=creator.headers))[
            "items"
        ]
    ]
    assert names == ["Public"]
    world.application(creator, public)
    item = ok(world.client.get("/api/v1/marketplace/campaigns", headers=creator.headers))["items"][
        0
    ]
    assert item["already_applied"] is True


def test_marketplace_paginates_with_a_cursor(world: World) -> None:
    brand = world.brand()
    creator = world.creator()
    ids = [world.campaign(brand, name=f"C{i}")["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/marketplace/campaigns?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = ok(world.client.get(url, headers=creator.headers))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def test_application_rules(world: World) -> None:
    brand = world.brand()
    koc = world.creator(followers=20_000)
    nano = world.creator(followers=2_000)
    campaign = world.campaign(brand, creator_criteria={"tiers": ["koc"]})
    world.application(koc, campaign)
    again = world.client.post(
        f"/api/v1/campaigns/{campaign['id']}/applications",
        json={"proposal": "again", "quote_amount": 1, "currency": "CNY"},
        headers=koc.headers,
    )
    assert again.status_code == 409 and again.json()["code"] == "already_applied"
    refused = world.client.post(
        f"/api/v1/campaigns/{campaign['id']}/applications",
        json={"proposal": "me too", "quote_amount": 1, "currency": "CNY"},
        headers=nano.headers,
    )
    assert refused.status_code == 403 and refused.json()["code"] == "not_eligible"
    wrong_currency = world.client.post(
        f"/api/v1/campaigns/{campaign['id']}/applications",
        json={"proposal": "usd", "quote_amount": 1, "currency": "USD"},
        headers=world.creator().headers,
    )
    assert wrong_currency.status_code == 422
    brand_applies = world.client.post(
        f"/api/v1/campaigns/{campaign['id']}/applications",
        json={"proposal": "x", "quote_amount": 1, "currency": "CNY"},
        headers=brand.headers,
    )
    assert brand_applies.status_code == 403


def test_applications_expire_and_cannot_be_accepted_afterwards(world: World) -> None:
    brand = world.brand()
    creator = world.creator()
    campaign = world.campaign(brand)
    application = world.application(creator, campaign)
    clock.advance(timedelta(days=15))
    listed = ok(
        world.client.get(f"/api/v1/campaigns/{campaign['id']}/applications", headers=brand.headers)
    )
    assert listed["items"][0]["status"] == "expired"
    accept = world.client.post(
        f"/api/v1/applications/{application['id']}/accept", headers=brand.headers
    )
    assert accept.status_code == 409 and accept.json()["code"] == "not_pending"
    from pappus.campaigns.tasks import expire_offers

    assert expire_offers(world.db) == 1
    assert expire_offers(world.db) == 0


def test_reject_and_withdraw(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand)
    first, second = world.creator(), world.creator()
    a1 = world.application(first, campaign)
    a2 = world.application(second, campaign)
    rejected = ok(
        world.client.post(
            f"/api/v1/applications/{a1['id']}/reject",
            json={"note": "not a fit"},
            headers=brand.headers,
        )
    )
    assert (rejected["status"], rejected["decision_note"]) == ("rejected", "not a fit")
    withdrawn = ok(
        world.client.post(f"/api/v1/applications/{a2['id']}/withdraw", headers=second.headers)
    )
    assert withdrawn["status"] == "withdrawn"
    mine = ok(world.client.get("/api/v1/applications", headers=second.headers))
    assert [a["id"] for a in mine["items"]] == [a2["id"]]


def _invite(world: World, brand: Who, creator: Who, campaign: dict[str, Any]) -> Any:
    return ok(
        world.client.post(
            f"/api/v1/campaigns/{campaign['id']}/invitations",
            json={"creator_id": creator.creator_id, "offer_amount": 800_000, "message": "hi"},
            headers=brand.headers,
        ),
        201,
    )


def test_invitation_accepted_creates_order_and_supersedes_application(world: World) -> None:
    brand = world.brand()
    creator = world.creator()
    campaign = world.campaign(brand)
    application = world.application(creator, campaign)
    invitation = _invite(world, brand, creator, campaign)
    assert (
        ok(world.client.get("/api/v1/invitations", headers=creator.headers))["items"][0]["id"]
        == invitation["id"]
    )
    accepted = ok(
        world.client.post(
            f"/api/v1/invitations/{invitation['id']}/accept", headers=creator.headers
        ),
        201,
    )
    assert accepted["status"] == "accepted"
    assert accepted["order"]["price_amount"] == 800_000
    app_after = ok(
        world.client.get(f"/api/v1/applications/{application['id']}", headers=brand.headers)
    )
    assert app_after["status"] == "superseded"
    # one order per creator and campaign
    from pappus.campaigns.service import effective_status

    assert effective_status("superseded", clock.now()) == "superseded"
    order = world.get_order(accepted["order"]["id"], creator)
    assert order["source_kind"] == "invitation"
    assert order["contract"]["money"]["price_amount"] == 800_000


def test_superseding_updates_a_sibling_already_loaded_in_the_session(world: World) -> None:
    # Given a pending application, loaded in the session that accepts the creator's invitation
    from pappus.campaigns import repository

    brand = world.brand()
    creator = world.creator()
    campaign = world.campaign(brand)
    application = world.application(creator, campaign)
    with world.db.unit_of_work() as session:
        loaded = repository.get_application(session, application["id"])
        assert loaded is not None and loaded.status == "pending"
        # When its siblings are superseded (an invitation of the pair became the order)
        repository.supersede_siblings(
            session, campaign["id"], creator.creator_id, "invitation", clock.now()
        )
        # Then the loaded row says so too, not only the database
        assert loaded.status == "superseded"
    after = ok(world.client.get(f"/api/v1/applications/{application['id']}", headers=brand.headers))
    assert after["status"] == "superseded"


def test_invitation_decline_revoke_and_duplicates(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand, visibility="invite_only")
    c1, c2 = world.creator(), world.creator()

    def invite(creator_id: str | None) -> object:
        return world.client.post(
            f"/api/v1/campaigns/{campaign['id']}/invitations",
            json={"creator_id": creator_id, "offer_amount": 100_000},
            headers=brand.headers,
        )

    i1 = ok(invite(c1.creator_id), 201)
    dup = invite(c1.creator_id)
    assert dup.status_code == 409 and dup.json()["code"] == "already_invited"  # type: ignore[attr-defined]
    unknown = invite("cr_doesnotexist")
    assert unknown.status_code == 404  # type: ignore[attr-defined]
    i2 = ok(invite(c2.creator_id), 201)
    declined = ok(
        world.client.post(
            f"/api/v1/invitations/{i1['id']}/decline", json={"note": "busy"}, headers=c1.headers
        )
    )
    assert declined["status"] == "declined"
    revoked = ok(world.client.post(f"/api/v1/invitations/{i2['id']}/revoke", headers=brand.headers))
    assert revoked["status"] == "revoked"
    late = world.client.post(f"/api/v1/invitations/{i2['id']}/accept", headers=c2.headers)
    assert late.status_code == 409
    # an invite-only campaign takes no applications but the invited creator sees its brief
    assert (
        ok(world.client.get(f"/api/v1/marketplace/campaigns/{campaign['id']}", headers=c1.headers))[
            "name"
        ]
        == campaign["name"]
    )
    outsider = world.creator()
    assert (
        world.client.get(
            f"/api/v1/marketplace/campaigns/{campaign['id']}", headers=outsider.headers
        ).status_code
        == 404
    )


def test_budget_caps_the_escrow_committed_by_orders(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand, budget_amount=1_000_000)
    a1 = world.application(world.creator(), campaign, quote=500_000)
    a2 = world.application(world.creator(), campaign, quote=500_000)
    ok(world.client.post(f"/api/v1/applications/{a1['id']}/accept", headers=brand.headers), 201)
    second = world.client.post(f"/api/v1/applications/{a2['id']}/accept", headers=brand.headers)
    assert second.status_code == 409 and second.json()["code"] == "budget_exceeded"
    assert second.json()["remaining"] == 450_000
    fetched = ok(world.client.get(f"/api/v1/campaigns/{campaign['id']}", headers=brand.headers))
    assert fetched["committed_amount"] == 550_000


def test_campaign_with_active_orders_cannot_be_cancelled(world: World) -> None:
    order_id, brand, creator = world.order()
    order = world.get_order(order_id, brand)
    cid = order["campaign_id"]
    pending = world.application(world.creator(), {"id": cid})
    refused = world.client.post(f"/api/v1/campaigns/{cid}/cancel", headers=brand.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "campaign_has_active_orders"
    ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/cancel",
            json={"reason": "plans changed"},
            headers=brand.headers,
        )
    )
    cancelled = ok(world.client.post(f"/api/v1/campaigns/{cid}/cancel", headers=brand.headers))
    assert cancelled["status"] == "cancelled"
    after = ok(world.client.get(f"/api/v1/applications/{pending['id']}", headers=brand.headers))
    assert after["status"] == "rejected"


def test_the_lock_and_superseding_leave_loaded_rows_current_and_readable(world: World) -> None:
    """Both write with Core statements; rows the session loaded before show what was read
    and written, as the ORM's own refresh would, and stay readable once it has closed."""
    brand, creator = world.brand(), world.creator()
    campaign = world.campaign(brand)
    application = world.application(creator, campaign)
    _invite(world, brand, creator, campaign)  # the offer that became the order
    at = clock.now()
    with world.db.unit_of_work() as session:
        loaded_campaign = session.get(Campaign, campaign["id"])
        loaded_application = session.get(Application, application["id"])
        assert loaded_campaign is not None and loaded_application is not None
        locked = repository.lock(session, campaign["id"])
        repository.supersede_siblings(session, campaign["id"], creator.creator_id, "invitation", at)
    assert locked is not None and locked.status == loaded_campaign.status == "open"
    assert loaded_campaign.budget_amount == locked.budget_amount
    assert loaded_application.status == "superseded"
    assert loaded_application.decided_at == at
    with world.db.unit_of_work() as session:
        stored = session.get(Application, application["id"])
        assert stored is not None and stored.status == "superseded"
        assert repository.lock(session, "cmp_missing") is None


def test_an_accept_that_loses_a_race_to_a_reject_creates_nothing(world: World) -> None:
    """The accept read the application as pending; a reject committed before its decision
    was written: the accept is refused (409 not_pending, naming what the other request did)
    and leaves no order, hold or superseded sibling behind."""
    from pappus.accounts.service import principal_for_token
    from pappus.campaigns import service
    from pappus.campaigns.models import Invitation
    from pappus.campaigns.service import OfferNotPending
    from pappus.ledger.models import LedgerTransaction
    from pappus.orders.models import Order

    if world.db.is_sqlite:
        pytest.skip("a SQLite writer holds the database from its first statement: no race")
    brand, creator = world.brand(), world.creator()
    campaign = world.campaign(brand)
    application = world.application(creator, campaign)
    invitation = _invite(world, brand, creator, campaign)  # the sibling the accept supersedes
    with world.db.unit_of_work(write=False) as session:
        transactions = session.scalar(select(func.count()).select_from(LedgerTransaction))
    refusal = pytest.raises(OfferNotPending, match="rejected by another request")
    with refusal as refused, world.db.unit_of_work() as session:
        principal = principal_for_token(session, brand.token)
        # kept, as run_idempotent keeps it, so the accept works on the rows it read
        authorized = service.authorize_application_decision(session, principal, application["id"])
        url = f"/api/v1/applications/{application['id']}/reject"
        ok(world.client.post(url, json={"note": "no"}, headers=brand.headers))
        assert authorized[0].status == "pending"  # what the accept goes by
        service.accept_application(session, principal, application["id"], None)
    assert refused.value.extra.get("current_status") == "rejected"
    with world.db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert session.scalar(select(func.count()).select_from(LedgerTransaction)) == transactions
        assert session.get(Invitation, invitation["id"]).status == "pending"  # type: ignore[union-attr]
    shown = ok(world.client.get(f"/api/v1/applications/{application['id']}", headers=brand.headers))
    assert shown["status"] == "rejected"
