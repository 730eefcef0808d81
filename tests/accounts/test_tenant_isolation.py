"""Tenant isolation beyond single requests: what lists show, private creator fields,
idempotent replays across callers, and role, key and token changes taking effect at once.

The world is the authorization suite's (tests/accounts/authz_world.py): organization A with every
role and creator A in all its objects, organization B with creator B.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from pappus.accounts.models import User
from pappus.kit.clock import clock
from tests.accounts.authz_world import ALL_SCOPES, Env, key_name, problem
from tests.fixtures.builders import ok

KEY_ALL = key_name(ALL_SCOPES)
A_ORDERS = ("order_new", "order_review", "order_approved", "order_published", "order_disputed")


def ids_of(page: dict[str, Any]) -> set[str]:
    return {item["id"] for item in page["items"]}


def test_lists_show_each_caller_only_their_own(authz: Env) -> None:
    env, ids = authz, authz.ids
    # given what each tenant has, as its owner lists it
    a_campaigns = ids_of(env.get("/campaigns", "owner", organization_id=ids["org_a"], limit="100"))
    b_campaigns = ids_of(env.get("/campaigns", "owner_b", limit="100"))
    a_orders = {ids[order] for order in A_ORDERS}
    assert ids_of(env.get("/orders", "owner", limit="100")) == a_orders
    assert ids["campaign_draft"] in a_campaigns and ids["campaign_b"] in b_campaigns
    assert a_campaigns.isdisjoint(b_campaigns)
    review_campaign = env.get(f"/orders/{ids['order_review']}", "owner")["campaign_id"]

    # then organization B's callers see B's, and filtering by A's ids yields nothing
    for caller in ("owner_b", "key_b"):
        assert ids_of(env.get("/campaigns", caller, limit="100")) == b_campaigns
        assert ids_of(env.get("/orders", caller, limit="100")) == {ids["order_b"]}
        assert ids_of(env.get("/orders", caller, organization_id=ids["org_a"])) == set()
        assert ids_of(env.get("/orders", caller, campaign_id=review_campaign)) == set()

    # and organization A's callers never see B's
    for caller in ("viewer", "member", "admin", KEY_ALL):
        assert ids_of(env.get("/campaigns", caller, limit="100")).isdisjoint(b_campaigns)
        assert ids_of(env.get("/orders", caller, limit="100")) == a_orders

    # creators see their own orders, applications and invitations only
    for creator, orders, campaigns in (
        ("creator_a", a_orders, a_campaigns),
        ("creator_b", {ids["order_b"]}, b_campaigns),
    ):
        assert ids_of(env.get("/orders", creator, limit="100")) == orders
        for offers in ("/applications", "/invitations"):
            items = env.get(offers, creator, limit="100")["items"]
            assert items and {i["campaign_id"] for i in items} <= campaigns, (creator, offers)

    # the marketplace shows open public briefs, never drafts, closed or invite-only ones
    market = ids_of(env.get("/marketplace/campaigns", "creator_b", limit="100"))
    assert ids["campaign_open"] in market
    assert market.isdisjoint(
        {ids["campaign_draft"], ids["campaign_closed"], ids["campaign_private"]}
    )

    # staff see every tenant's disputes and orders (the positive control)
    assert ids["dispute"] in ids_of(env.get("/disputes", "staff"))
    assert a_orders | {ids["order_b"]} <= ids_of(env.get("/orders", "staff", limit="100"))


def test_creator_contact_details_only_for_those_who_work_with_the_creator(
    authz: Env,
) -> None:
    path = f"/creators/{authz.ids['creator_a']}"
    for caller in ("owner_b", "key_b", "creator_b"):
        profile = authz.get(path, caller)
        assert "contact_email" not in profile and "rate_card" not in profile, caller
    for caller in ("owner", "viewer", KEY_ALL, "creator_a", "staff"):
        assert "contact_email" in authz.get(path, caller), caller


def test_an_idempotency_key_never_replays_another_callers_response(authz: Env) -> None:
    env = authz
    path = f"/applications/{env.ids['app_pending']}/accept"
    same_key = {"Idempotency-Key": "accept-application-once"}
    # given A's owner accepted the application with a key
    first = env.request("POST", path, "owner", headers=same_key)
    assert first.status_code == 201, first.text
    # when others send the same key to the same path, each is judged on their own
    for caller, status, code in (
        ("owner_b", 404, "not_found"),
        ("key_b", 404, "not_found"),
        ("creator_b", 404, "not_found"),
        ("viewer", 403, "insufficient_role"),
    ):
        response = env.request("POST", path, caller, headers=same_key)
        assert (response.status_code, problem(response)["code"]) == (status, code), caller
        assert "idempotent-replayed" not in response.headers
    # and only the owner's own retry is a replay
    replay = env.request("POST", path, "owner", headers=same_key)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()


def test_a_replay_is_refused_once_the_caller_has_lost_access(authz: Env) -> None:
    env, ids = authz, authz.ids
    path = f"/applications/{ids['app_pending']}/accept"
    same_key = {"Idempotency-Key": "accept-then-leave"}
    # given an admin accepted an application, then was removed from the organization
    assert env.request("POST", path, "admin", headers=same_key).status_code == 201
    ok(
        env.request(
            "DELETE", f"/organizations/{ids['org_a']}/members/{ids['admin_user']}", "owner"
        ),
        204,
    )
    assert env.request("GET", f"/applications/{ids['app_pending']}", "admin").status_code == 404
    # when they retry with the same key, they are judged as they are now
    replay = env.request("POST", path, "admin", headers=same_key)
    assert (replay.status_code, problem(replay)["code"]) == (404, "not_found")


def test_role_membership_and_key_changes_apply_to_the_next_request(authz: Env) -> None:
    env, ids = authz, authz.ids
    org, campaign = ids["org_a"], f"/campaigns/{ids['campaign_open']}"
    edit = {"description": "Edited"}
    assert env.request("PATCH", campaign, "admin", json=edit).status_code == 200

    # an admin demoted to viewer can read but no longer write
    demote = env.request(
        "PATCH",
        f"/organizations/{org}/members/{ids['admin_user']}",
        "owner",
        json={"role": "viewer"},
    )
    ok(demote)
    refused = env.request("PATCH", campaign, "admin", json=edit)
    assert (refused.status_code, problem(refused)["code"]) == (403, "insufficient_role")
    assert env.request("GET", campaign, "admin").status_code == 200

    # a removed member no longer finds anything of the organization
    ok(env.request("DELETE", f"/organizations/{org}/members/{ids['member_user']}", "owner"), 204)
    for path in (campaign, f"/orders/{ids['order_review']}", f"/organizations/{org}"):
        gone = env.request("GET", path, "member")
        assert (gone.status_code, problem(gone)["code"]) == (404, "not_found"), path
    assert ids_of(env.get("/orders", "member")) == set()

    # a revoked API key stops working at once
    assert env.request("GET", "/campaigns", KEY_ALL).status_code == 200
    ok(env.request("DELETE", f"/organizations/{org}/api-keys/{ids[KEY_ALL]}", "owner"))
    revoked = env.request("GET", "/campaigns", KEY_ALL)
    assert (revoked.status_code, problem(revoked)["code"]) == (401, "invalid_api_key")


def test_logged_out_expired_refresh_and_disabled_credentials_are_refused(
    authz: Env,
) -> None:
    env = authz

    def me(token: str) -> tuple[int, str | None]:
        response = env.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.json().get("code")

    # a refresh token is not an access token
    pair = ok(
        env.client.post(
            "/api/v1/auth/token",
            data={"username": env.ids["owner_email"], "password": "correct horse battery"},
        )
    )
    assert me(pair["refresh_token"]) == (401, "invalid_token")
    assert me(pair["access_token"])[0] == 200

    # logging out revokes the token used, and only that one
    ok(env.request("POST", "/auth/logout", "viewer"), 204)
    assert me(env.tokens["viewer"]) == (401, "token_expired")
    assert me(env.tokens["owner"])[0] == 200

    # a disabled account's tokens stop working
    with env.db.unit_of_work() as session:
        session.execute(
            update(User).where(User.id == env.ids["member_user"]).values(is_active=False)
        )
    assert me(env.tokens["member"]) == (401, "account_disabled")

    # access tokens expire (they last a year in the tests); API keys do not
    clock.advance(timedelta(days=400))
    assert me(env.tokens["owner"]) == (401, "token_expired")
    assert me(env.tokens[KEY_ALL])[0] == 200
