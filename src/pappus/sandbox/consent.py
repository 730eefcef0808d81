"""What a creator does on the sandbox platform itself: sign in on its consent page and allow,
or publish a post in its app. Used by `pappus demo` to act the way a person would; Pappus
itself never calls this."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from pappus.sandbox.app import ACCOUNT_PASSWORD


def allow(authorization_url: str, login: str, password: str = ACCOUNT_PASSWORD) -> tuple[str, str]:
    """Sign in as `login` and allow; returns the (code, state) the platform redirects with."""
    url = httpx.URL(authorization_url)
    query = dict(url.params)
    form = {
        **{k: query.get(k, "") for k in ("client_id", "redirect_uri", "state", "scope")},
        "code_challenge": query.get("code_challenge", ""),
        "code_challenge_method": query.get("code_challenge_method", ""),
        "login": login,
        "password": password,
        "decision": "allow",
    }
    endpoint = url.copy_with(path="/oauth/authorize", query=None)
    response = httpx.post(str(endpoint), data=form, follow_redirects=False, timeout=10)
    if response.status_code != 303:
        raise RuntimeError(f"the sandbox refused the sign-in: {response.text[:200]}")
    answer = parse_qs(urlsplit(response.headers["location"]).query)
    if "code" not in answer:
        raise RuntimeError(f"the sandbox answered {answer.get('error', ['nothing'])[0]}")
    return answer["code"][0], answer["state"][0]


def publish_post(
    sandbox_url: str, login: str, post: dict[str, object], password: str = ACCOUNT_PASSWORD
) -> dict[str, object]:
    """Publish `post` (the body of POST /app/v1/posts) as `login`; returns the post with its
    public `url`."""
    response = httpx.post(
        f"{sandbox_url.rstrip('/')}/app/v1/posts", auth=(login, password), json=post, timeout=10
    )
    if response.status_code != 201:
        raise RuntimeError(f"the sandbox refused the post: {response.text[:200]}")
    found: dict[str, object] = response.json()
    return found
