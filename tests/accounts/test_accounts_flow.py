"""Registration, tokens, organizations with members and roles, and API keys."""

from __future__ import annotations

from datetime import timedelta

from pappus.kit.clock import clock
from tests.fixtures.builders import PASSWORD, World, ok


def test_register_brand_creates_organization_with_owner(world: World) -> None:
    brand = world.brand("Acme 蒲公英")
    me = ok(world.client.get("/api/v1/me", headers=brand.headers))
    assert me["kind"] == "brand"
    assert me["memberships"] == [
        {
            "organization_id": brand.organization_id,
            "organization_name": "Acme 蒲公英",
            "role": "owner",
        }
    ]


def test_register_rules(world: World) -> None:
    post = world.client.post
    body = {
        "kind": "brand",
        "email": "A@Example.com",
        "password": PASSWORD,
        "display_name": "A",
        "organization_name": "A",
    }
    ok(post("/api/v1/auth/register", json=body), 201)
    dup = post("/api/v1/auth/register", json={**body, "email": "a@example.COM"})
    assert dup.status_code == 409 and dup.json()["code"] == "email_taken"
    no_org = post(
        "/api/v1/auth/register", json={**body, "email": "b@example.com", "organization_name": None}
    )
    assert no_org.status_code == 422
    short = post(
        "/api/v1/auth/register", json={**body, "email": "c@example.com", "password": "short"}
    )
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
    staff = post("/api/v1/auth/register", json={**body, "email": "d@example.com", "kind": "staff"})
    assert staff.status_code == 422
    # email is case-insensitive for login too
    assert world.login("a@EXAMPLE.com")


def test_wrong_password_and_unknown_email_look_the_same(world: World) -> None:
    brand = world.brand()
    wrong = world.client.post(
        "/api/v1/auth/token", data={"username": brand.email, "password": "nope-nope-nope"}
    )
    unknown = world.client.post(
        "/api/v1/auth/token", data={"username": "who@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_refresh_rotates_and_refuses_replay(world: World) -> None:
    brand = world.brand()
    pair = ok(
        world.client.post(
            "/api/v1/auth/token", data={"username": brand.email, "password": PASSWORD}
        )
    )
    fresh = ok(
        world.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        )
    )
    assert fresh["access_token"] != pair["access_token"]
    replay = world.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
    )
    assert replay.status_code == 401
    me = world.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    )
    assert me.status_code == 200


def test_tokens_expire_and_logout_revokes(world: World) -> None:
    brand = world.brand()
    ok(world.client.post("/api/v1/auth/logout", headers=brand.headers), 204)
    assert world.client.get("/api/v1/me", headers=brand.headers).json()["code"] == "token_expired"
    token = world.login(brand.email)
    clock.advance(timedelta(days=366))
    response = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_members_and_roles(world: World) -> None:
    owner = world.brand()
    admin = world.member(owner, "admin")
    viewer = world.member(owner, "viewer")
    org = owner.organization_id
    members = ok(world.client.get(f"/api/v1/organizations/{org}/members", headers=viewer.headers))
    assert sorted(m["role"] for m in members["items"]) == ["admin", "owner", "viewer"]
    # admins manage members but cannot make owners
    promote = world.client.patch(
        f"/api/v1/organizations/{org}/members/{viewer.user_id}",
        json={"role": "owner"},
        headers=admin.headers,
    )
    assert promote.status_code == 403
    ok(
        world.client.patch(
            f"/api/v1/organizations/{org}/members/{viewer.user_id}",
            json={"role": "member"},
            headers=admin.headers,
        )
    )
    # viewers cannot manage
    newcomer = world.brand()
    refused = world.client.post(
        f"/api/v1/organizations/{org}/members",
        json={"email": newcomer.email, "role": "viewer"},
        headers=viewer.headers,
    )
    assert refused.status_code == 403
    # the last owner cannot leave or be demoted
    last = world.client.patch(
        f"/api/v1/organizations/{org}/members/{owner.user_id}",
        json={"role": "admin"},
        headers=owner.headers,
    )
    assert last.status_code == 409 and last.json()["code"] == "last_owner"
    # a member can leave by themselves
    ok(
        world.client.delete(
            f"/api/v1/organizations/{org}/members/{viewer.user_id}", headers=viewer.headers
        ),
        204,
    )
    gone = world.client.get(f"/api/v1/organizations/{org}", headers=viewer.headers)
    assert gone.status_code == 404
    creator = world.creator()
    not_brand = world.client.post(
        f"/api/v1/organizations/{org}/members", json={"email": creator.email}, headers=owner.headers
    )
    assert not_brand.status_code == 422


def test_api_keys_are_shown_once_scoped_and_revocable(world: World) -> None:
    owner = world.brand()
    org = owner.organization_id
    created = ok(
        world.client.post(
            f"/api/v1/organizations/{org}/api-keys",
            json={"name": "BI export", "scopes": ["campaigns:read"]},
            headers=owner.headers,
        ),
        201,
    )
    secret = created["key"]
    assert secret.startswith("pk_live_") and created["prefix"] == secret[:12]
    listed = ok(world.client.get(f"/api/v1/organizations/{org}/api-keys", headers=owner.headers))
    assert "key" not in listed["items"][0]
    key_headers = {"Authorization": f"Bearer {secret}"}
    me = ok(world.client.get("/api/v1/me", headers=key_headers))
    assert me["kind"] == "api_key" and me["scopes"] == ["campaigns:read"]
    world.campaign(owner)
    assert len(ok(world.client.get("/api/v1/campaigns", headers=key_headers))["items"]) == 1
    write = world.client.post("/api/v1/campaigns", json=world.campaign_body(), headers=key_headers)
    assert write.status_code == 403 and write.json()["code"] == "missing_scope"
    bad_scope = world.client.post(
        f"/api/v1/organizations/{org}/api-keys",
        json={"name": "x", "scopes": ["root"]},
        headers=owner.headers,
    )
    assert bad_scope.status_code == 422
    ok(
        world.client.delete(
            f"/api/v1/organizations/{org}/api-keys/{created['id']}", headers=owner.headers
        )
    )
    revoked = world.client.get("/api/v1/me", headers=key_headers)
    assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_api_key"


def test_creator_profile_private_fields_need_an_order(world: World) -> None:
    creator = world.creator(
        followers=30_000,
        contact_email="me@creator.example",
        rate_card=[{"format": "image_post", "amount": 200_000}],
    )
    stranger = world.brand()
    public = ok(
        world.client.get(f"/api/v1/creators/{creator.creator_id}", headers=stranger.headers)
    )
    assert public["tier"] == "koc"
    assert "contact_email" not in public and "rate_card" not in public
    order_id, brand, _ = world.order(creator=creator)
    private = ok(world.client.get(f"/api/v1/creators/{creator.creator_id}", headers=brand.headers))
    assert private["contact_email"] == "me@creator.example"
    assert private["rate_card"][0]["amount"] == 200_000


def test_discovery_filters_by_tier_category_and_text(world: World) -> None:
    brand = world.brand()
    world.creator(followers=500, categories=["beauty"])  # under 1k: not listed
    nano = world.creator(followers=5_000, categories=["food"], bio="家常菜 home cooking")
    koc = world.creator(followers=20_000, categories=["beauty", "skincare"])
    head = world.creator(followers=900_000, categories=["beauty"])

    def ids(query: str) -> list[str]:
        page = ok(world.client.get(f"/api/v1/creators?{query}", headers=brand.headers))
        return [c["id"] for c in page["items"]]

    assert set(ids("")) == {nano.creator_id, koc.creator_id, head.creator_id}
    assert ids("tier=koc") == [koc.creator_id]
    assert ids("category=food") == [nano.creator_id]
    assert ids("q=cooking") == [nano.creator_id]
    assert set(ids("category=beauty&min_followers=10000")) == {koc.creator_id, head.creator_id}
    assert ids("tier=head&max_followers=100000") == []
    assert world.client.get("/api/v1/creators?tier=giant", headers=brand.headers).status_code == 422
