"""The sandbox platform's connector: OAuth 2.0 with PKCE and its REST API, over HTTP with
httpx, exactly as a connector to a real platform would work."""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from pappus.connectors.base import (
    Audience,
    ConnectorError,
    FollowerProfile,
    HistoryPoint,
    Metrics,
    PlatformComment,
    PlatformPost,
    PostPage,
    Profile,
    TokenSet,
)

T = TypeVar("T")
POST_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
SCOPES = "profile audience followers posts"


class SandboxConnector:
    platform = "sandbox"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.timeout = timeout
        self.transport = transport

    # -- OAuth ---------------------------------------------------------------------------

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": SCOPES,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.base_url}/oauth/authorize?{urlencode(query)}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return self._token(form)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _token(self, form: dict[str, str]) -> TokenSet:
        form = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        body = self._request("POST", "/oauth/token", data=form)
        return _parse(TokenSet, body)

    # -- reading -------------------------------------------------------------------------

    def profile(self, access_token: str) -> Profile:
        return _parse(Profile, self._get(access_token, "/api/v1/me"))

    def audience(self, access_token: str) -> Audience:
        return _parse(Audience, self._get(access_token, "/api/v1/me/audience"))

    def follower_history(self, access_token: str) -> list[HistoryPoint]:
        body = self._get(access_token, "/api/v1/me/follower-history")
        return _parse(list[HistoryPoint], _field(body, "days"))

    def follower_sample(self, access_token: str, size: int) -> list[FollowerProfile]:
        body = self._get(access_token, "/api/v1/me/followers/sample", {"size": size})
        return _parse(list[FollowerProfile], _field(body, "followers"))

    def posts(self, access_token: str, cursor: str | None = None, limit: int = 20) -> PostPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return _parse(PostPage, self._get(access_token, "/api/v1/me/posts", params))

    def post(self, access_token: str, post_id: str) -> PlatformPost:
        return _parse(PlatformPost, self._get(access_token, f"/api/v1/posts/{post_id}"))

    def post_id_from_url(self, url: str) -> str | None:
        """Post pages are {base}/posts/{id}, on the platform's own host."""
        parts, base = urlsplit(url), urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != base.netloc.lower():
            return None
        head, _, post_id = parts.path.rstrip("/").rpartition("/")
        if head != base.path.rstrip("/") + "/posts" or not POST_ID.fullmatch(post_id):
            return None
        return post_id

    def post_metrics(self, access_token: str, post_id: str) -> list[Metrics]:
        body = self._get(access_token, f"/api/v1/posts/{post_id}/metrics")
        return _parse(list[Metrics], _field(body, "series"))

    def comments(self, access_token: str, post_id: str, limit: int = 50) -> list[PlatformComment]:
        body = self._get(access_token, f"/api/v1/posts/{post_id}/comments", {"limit": limit})
        return _parse(list[PlatformComment], _field(body, "comments"))

    # -- HTTP ----------------------------------------------------------------------------

    def _get(self, access_token: str, path: str, params: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {access_token}"}
        return self._request("GET", path, params=params, headers=headers)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            with httpx.Client(
                base_url=self.base_url, timeout=self.timeout, transport=self.transport
            ) as client:
                response = client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ConnectorError(f"{self.platform}: {path} timed out", retryable=True) from None
        except httpx.HTTPError as exc:
            message = f"{self.platform}: {path} failed: {type(exc).__name__}"
            raise ConnectorError(message, retryable=True) from None
        if response.status_code >= 400:
            retryable = response.status_code >= 500 or response.status_code == 429
            try:
                reason = response.json().get("error_description") or response.text[:200]
            except ValueError:
                reason = response.text[:200]
            raise ConnectorError(
                f"{self.platform}: {path} answered {response.status_code}: {reason}",
                retryable=retryable,
                status=response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"{self.platform}: {path} answered something that is not JSON", retryable=True
            ) from None


def _field(body: Any, name: str) -> Any:
    if not isinstance(body, dict) or name not in body:
        raise ConnectorError(f"the platform's answer has no {name!r}", retryable=False)
    return body[name]


def _parse(shape: type[T] | Any, body: Any) -> T:
    try:
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            return shape.model_validate(body)  # type: ignore[return-value]
        result: T = TypeAdapter(shape).validate_python(body)
        return result
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConnectorError(
            f"the platform's answer is malformed at {where}: {first['msg']}", retryable=False
        ) from None
