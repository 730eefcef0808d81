"""The sandbox platform's OAuth server and API, as any OAuth client would meet them."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from pappus.sandbox import world as w
from pappus.sandbox.app import SandboxConfig, create_sandbox_app
from tests.connectors.conftest import CLIENT_SECRET, STAFF_KEY, WORLD

REDIRECT = "http://127.0.0.1:8000/api/v1/connectors/sandbox/callback"
VERIFIER = "a-long-enough-code-verifier-for-pkce-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode()
CHALLENGE = CHALLENGE.rstrip("=")


@pytest.fixture
def platform() -> Iterator[TestClient]:
    config = SandboxConfig(spec=WORLD, client_secret=CLIENT_SECRET, staff_key=STAFF_KEY)
    with TestClient(create_sandbox_app(config)) as client:
        yield client


def authorize(client: TestClient, login: str, **overrides: str) -> Any:
    form = {
        "client_id": "pappus",
        "redirect_uri": REDIRECT,
        "state": "st-1",
        "login": login,
        "password": "sandbox",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }
    return client.post("/oauth/authorize", data=form, follow_redirects=False)


def code_for(client: TestClient, login: str) -> str:
    response = authorize(client, login)
    assert response.status_code == 303, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def exchange(client: TestClient, code: str, verifier: str = VERIFIER) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": "pappus",
        "client_secret": CLIENT_SECRET,
    }
    return client.post("/oauth/token", data=form)


def test_the_consent_page_asks_for_the_password_on_the_platform_itself(
    platform: TestClient,
) -> None:
    page = platform.get(
        "/oauth/authorize",
        params={"client_id": "pappus", "redirect_uri": REDIRECT, "state": "x"},
    )
    assert page.status_code == 200 and 'type="password"' in page.text
    wrong = platform.get(
        "/oauth/authorize",
        params={"client_id": "pappus", "redirect_uri": "https://evil.example/cb", "state": "x"},
    )
    assert wrong.status_code == 400


def test_the_code_flow_with_pkce_gives_tokens_for_the_account_that_signed_in(
    platform: TestClient,
) -> None:
    account = w.account(WORLD, 7)
    tokens = exchange(platform, code_for(platform, account.handle)).json()
    assert tokens["open_id"] == account.id and tokens["token_type"] == "Bearer"
    me = platform.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["followers"] == account.followers
    refreshed = platform.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "pappus",
            "client_secret": CLIENT_SECRET,
        },
    )
    assert refreshed.status_code == 200 and refreshed.json()["open_id"] == account.id


def test_codes_are_single_use_and_bound_to_the_verifier(platform: TestClient) -> None:
    code = code_for(platform, w.account(WORLD, 3).id)
    assert exchange(platform, code, verifier="not-the-verifier").json()["error"] == "invalid_grant"
    assert exchange(platform, code).status_code == 200
    replay = exchange(platform, code)
    assert replay.status_code == 400 and "already used" in replay.json()["error_description"]


def test_wrong_passwords_secrets_and_refusals(platform: TestClient) -> None:
    assert authorize(platform, w.account(WORLD, 1).id, password="guess").status_code == 401
    assert authorize(platform, "nobody_zz").status_code == 401
    no_pkce = authorize(platform, w.account(WORLD, 1).id, code_challenge="")
    assert no_pkce.status_code == 400 and "PKCE" in no_pkce.json()["error_description"]
    denied = authorize(platform, w.account(WORLD, 1).id, decision="deny")
    assert "error=access_denied" in denied.headers["location"]
    code = code_for(platform, w.account(WORLD, 2).id)
    bad_client = platform.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": "pappus",
              "client_secret": "wrong", "redirect_uri": REDIRECT, "code_verifier": VERIFIER},
    )  # fmt: skip
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"


def test_the_api_wants_a_valid_token_with_the_right_scope(platform: TestClient) -> None:
    assert platform.get("/api/v1/me").status_code == 401
    bad = platform.get("/api/v1/me", headers={"Authorization": "Bearer sbx_at.x.y"})
    assert bad.status_code == 401
    response = authorize(platform, w.account(WORLD, 4).id, scope="profile")
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    token = exchange(platform, code).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert platform.get("/api/v1/me", headers=headers).status_code == 200
    assert platform.get("/api/v1/me/audience", headers=headers).status_code == 403


def test_posts_page_and_carry_metrics_and_comments(platform: TestClient) -> None:
    account = next(w.account(WORLD, i) for i in range(50) if w.account(WORLD, i).followers > 3000)
    token = exchange(platform, code_for(platform, account.id)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = platform.get("/api/v1/me/posts", params=params, headers=headers).json()
        seen += [p["id"] for p in page["posts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [p.id for p in w.posts(WORLD, account)]
    series = platform.get(f"/api/v1/posts/{seen[0]}/metrics", headers=headers).json()["series"]
    assert len(series) == 8
    assert platform.get("/api/v1/posts/sbx_00000001_p9999", headers=headers).status_code == 404
    sample = platform.get("/api/v1/me/followers/sample?size=30", headers=headers).json()
    assert sample["size"] == 30 and "fake" not in sample["followers"][0]


def test_labels_are_for_staff_only(platform: TestClient) -> None:
    assert platform.get("/staff/v1/labels").status_code == 403
    page = platform.get(
        "/staff/v1/labels", params={"limit": 400}, headers={"X-Staff-Key": STAFF_KEY}
    ).json()
    assert len(page["labels"]) == 400 and page["next_start"] is None
    truth = [bool(w.account(WORLD, i).fraud) for i in range(400)]
    assert [item["fraudulent"] for item in page["labels"]] == truth


def test_injected_faults_answer_503(platform: TestClient) -> None:
    headers = {"X-Staff-Key": STAFF_KEY}
    assert (
        platform.put("/staff/v1/faults", json={"failure_rate": 2}, headers=headers).status_code
        == 400
    )
    platform.put("/staff/v1/faults", json={"failure_rate": 1.0}, headers=headers)
    assert platform.get("/api/v1/me").status_code == 503
    platform.put("/staff/v1/faults", json={"failure_rate": 0.0}, headers=headers)
    assert platform.get("/api/v1/me").status_code == 401


def _basic(login: str, password: str = "sandbox") -> dict[str, str]:
    raw = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_the_creator_app_publishes_edits_and_takes_down_only_ones_own_posts(
    platform: TestClient,
) -> None:
    author, other = w.account(WORLD, 3), w.account(WORLD, 4)
    body = {"title": "t", "text": "hello", "hashtags": ["a"], "partnership_label": True}
    assert platform.post("/app/v1/posts", json=body).status_code == 401
    assert (
        platform.post("/app/v1/posts", json=body, headers=_basic(author.handle, "x")).status_code
        == 401
    )
    bad = platform.post(
        "/app/v1/posts", json={**body, "format": "hologram"}, headers=_basic(author.handle)
    )
    assert bad.status_code == 422
    post = platform.post("/app/v1/posts", json=body, headers=_basic(author.handle)).json()
    assert post["author_open_id"] == author.id and post["url"].endswith(f"/posts/{post['id']}")
    # the public page shows the label; the API serves it, and it heads the author's posts
    page = platform.get(f"/posts/{post['id']}")
    assert page.status_code == 200 and "品牌合作" in page.text
    token = exchange(platform, code_for(platform, author.id)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert platform.get(f"/api/v1/posts/{post['id']}", headers=headers).json()["text"] == "hello"
    assert platform.get("/api/v1/me/posts", headers=headers).json()["posts"][0]["id"] == post["id"]
    series = platform.get(f"/api/v1/posts/{post['id']}/metrics", headers=headers).json()
    assert len(series["series"]) == 8
    # only the author may change it
    edit = {"partnership_label": False}
    path = f"/app/v1/posts/{post['id']}"
    assert platform.patch(path, json=edit, headers=_basic(other.handle)).status_code == 403
    assert (
        platform.patch(path, json=edit, headers=_basic(author.handle)).json()["partnership_label"]
        is False
    )
    assert platform.delete(path, headers=_basic(other.handle)).status_code == 403
    assert platform.delete(path, headers=_basic(author.handle)).status_code == 204
    assert platform.get(f"/api/v1/posts/{post['id']}", headers=headers).status_code == 404
    assert platform.delete(path, headers=_basic(author.handle)).status_code == 404
