"""The sandbox social platform over HTTP: its own OAuth 2.0 server (authorization code with
PKCE, refresh tokens) and a REST API in the shape of a real platform's open API. Pappus reaches
it only through `pappus.connectors.sandbox`, over HTTP, as it would reach Xiaohongshu.

Codes and tokens are HMAC-signed by a key derived from the seed and the client secret, so a
restarted sandbox with the same settings still honours them. A used authorization code is
remembered in memory only: after a restart a code could be replayed within its 10 minutes,
which a real platform would not allow (documented in docs/sandbox.md).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import json
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from pappus.sandbox import world as w

SCOPES = ("profile", "audience", "followers", "posts")
ACCESS_TTL = 3600
REFRESH_TTL = 90 * 86_400
CODE_TTL = 600
# Every sandbox account signs in on the sandbox's own consent page with this password. It is
# typed into the sandbox, never into Pappus.
ACCOUNT_PASSWORD = "sandbox"


Auth = Annotated[str | None, Header()]
StaffKey = Annotated[str | None, Header(alias="X-Staff-Key")]


@dataclass
class SandboxConfig:
    spec: w.WorldSpec = field(default_factory=w.WorldSpec)
    client_id: str = "pappus"
    client_secret: str = "sandbox-client-secret"
    staff_key: str = "sandbox-staff-key"
    # Faults to exercise a connector's retries: a share of API calls answered 503, a share
    # answered slowly.
    failure_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 5.0
    # The platform's clock for posts published through the creator app (tests pass Pappus's
    # controllable clock so a post's metrics grow as the test advances time).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


FORMATS = ("image_post", "short_video", "long_video")


class NewPost(BaseModel):
    """What a creator types into the platform's app to publish."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=300)
    text: str = Field(min_length=1, max_length=20_000)
    hashtags: list[str] = Field(default_factory=list, max_length=50)
    format: str = Field(default="image_post", pattern="^(image_post|short_video|long_video)$")
    partnership_label: bool = False
    brand: str | None = Field(default=None, max_length=100)


class PostEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=300)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    hashtags: list[str] | None = Field(default=None, max_length=50)
    partnership_label: bool | None = None


@dataclass
class LivePost:
    """A post published through the creator app while the sandbox runs (kept in memory)."""

    id: str
    k: int
    account_index: int
    title: str
    text: str
    hashtags: tuple[str, ...]
    format: str
    published_at: datetime
    partnership_label: bool
    brand: str | None
    removed_at: datetime | None = None


class SandboxError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signed, expiring tokens: `prefix.payload.signature`."""

    def __init__(self, config: SandboxConfig) -> None:
        seed = f"{config.spec.seed}:{config.client_secret}".encode()
        self.key = hashlib.sha256(b"pappus-sandbox-signing:" + seed).digest()

    def sign(self, prefix: str, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        mac = hmac.new(self.key, f"{prefix}.{body}".encode(), hashlib.sha256).digest()
        return f"{prefix}.{body}.{_b64(mac)}"

    def read(self, prefix: str, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != prefix:
            return None
        mac = hmac.new(self.key, f"{prefix}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(parts[2]), mac):
                return None
            payload: dict[str, Any] = json.loads(_unb64(parts[1]))
        except (ValueError, json.JSONDecodeError):
            return None
        if payload.get("exp", 0) < time.time():
            return None
        return payload


def create_sandbox_app(config: SandboxConfig | None = None) -> FastAPI:
    cfg = config or SandboxConfig()
    signer = Signer(cfg)
    used_codes: set[str] = set()
    used_lock = threading.Lock()
    live: dict[str, LivePost] = {}
    live_lock = threading.Lock()
    faults = random.Random()
    app = FastAPI(
        title="Pappus sandbox social platform",
        description="A simulated social platform with OAuth 2.0 and a REST API (docs/sandbox.md).",
    )
    app.state.config = cfg

    @app.exception_handler(SandboxError)
    async def _error(_request: Request, exc: SandboxError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        body = {"error": exc.error, "error_description": exc.description}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.middleware("http")
    async def _inject_faults(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/api/"):
            if faults.random() < cfg.failure_rate:
                body = {"error": "unavailable", "error_description": "injected fault"}
                return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})
            if faults.random() < cfg.slow_rate:
                await asyncio.sleep(cfg.slow_seconds)
        response: Response = await call_next(request)
        return response

    # -- helpers -------------------------------------------------------------------------

    def find_account(login: str) -> w.Account | None:
        """By account id (sbx_00000042) or handle (name_2a: the suffix is the hex index)."""
        index = w.index_of(login)
        if index is None:
            suffix = login.rpartition("_")[2]
            try:
                index = int(suffix, 16)
            except ValueError:
                return None
        if not 0 <= index < cfg.spec.accounts:
            return None
        found = w.account(cfg.spec, index)
        return found if login in (found.id, found.handle) else None

    def check_client(client_id: str | None, client_secret: str | None) -> None:
        if client_id != cfg.client_id or not hmac.compare_digest(
            (client_secret or "").encode(), cfg.client_secret.encode()
        ):
            raise SandboxError(401, "invalid_client", "unknown client or wrong secret")

    def check_redirect(redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or parts.hostname not in (
            "127.0.0.1",
            "localhost",
            "::1",
        ):
            # The sandbox only ever redirects back to a Pappus on this machine.
            raise SandboxError(
                400, "invalid_request", "redirect_uri must be on 127.0.0.1 or localhost"
            )

    def bearer(authorization: str | None, scope: str) -> w.Account:
        if not authorization or not authorization.startswith("Bearer "):
            raise SandboxError(401, "invalid_token", "a bearer access token is required")
        payload = signer.read("sbx_at", authorization[7:])
        if payload is None:
            raise SandboxError(401, "invalid_token", "the access token is invalid or expired")
        if scope not in payload.get("scope", "").split():
            raise SandboxError(403, "insufficient_scope", f"the token lacks the {scope} scope")
        index = int(payload["i"])
        if not 0 <= index < cfg.spec.accounts:  # a world restarted smaller
            raise SandboxError(401, "invalid_token", "the token's account no longer exists")
        return w.account(cfg.spec, index)

    def app_user(authorization: str | None) -> w.Account:
        """The creator app signs in with HTTP Basic: account id or handle, and the password."""
        if not authorization or not authorization.startswith("Basic "):
            raise SandboxError(401, "invalid_login", "sign in with HTTP Basic: handle:password")
        try:
            login, _, password = _unb64(authorization[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise SandboxError(401, "invalid_login", "malformed Basic credentials") from None
        found = find_account(login)
        if found is None or not hmac.compare_digest(password.encode(), ACCOUNT_PASSWORD.encode()):
            raise SandboxError(401, "invalid_login", "wrong account or password")
        return found

    def live_view(item: LivePost) -> w.Post:
        acc = w.account(cfg.spec, item.account_index)
        metrics = w.live_metrics(cfg.spec, acc, item.k, item.published_at, cfg.clock())
        return w.Post(
            id=item.id,
            account_id=acc.id,
            title=item.title,
            text=item.text,
            hashtags=item.hashtags,
            format=item.format,
            published_at=item.published_at,
            sponsored=item.brand is not None or item.partnership_label,
            partnership_label=item.partnership_label,
            brand=item.brand,
            metrics=metrics,
        )

    def live_of(acc: w.Account) -> list[w.Post]:
        with live_lock:
            mine = [p for p in live.values() if p.account_index == acc.index and not p.removed_at]
        return [live_view(p) for p in mine]

    def own_live(post_id: str, acc: w.Account) -> LivePost:
        with live_lock:
            item = live.get(post_id)
        if item is None or item.removed_at is not None:
            raise SandboxError(404, "not_found", f"no post {post_id}")
        if item.account_index != acc.index:
            raise SandboxError(403, "forbidden", "only the author may change a post")
        return item

    def tokens(index: int, scope: str) -> dict[str, Any]:
        now = int(time.time())
        access = {"i": index, "scope": scope, "exp": now + ACCESS_TTL, "n": secrets.token_hex(4)}
        refresh = {"i": index, "scope": scope, "exp": now + REFRESH_TTL, "n": secrets.token_hex(4)}
        return {
            "access_token": signer.sign("sbx_at", access),
            "refresh_token": signer.sign("sbx_rt", refresh),
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL,
            "scope": scope,
            "open_id": w.account_id(index),
        }

    # -- OAuth 2.0 -----------------------------------------------------------------------

    @app.get("/oauth/authorize", response_class=HTMLResponse)
    def authorize_page(
        client_id: str,
        redirect_uri: str,
        state: str,
        response_type: str = "code",
        scope: str = " ".join(SCOPES),
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> HTMLResponse:
        """The consent page a creator sees in the browser: sign in to the sandbox and allow."""
        if client_id != cfg.client_id:
            raise SandboxError(400, "invalid_client", "unknown client_id")
        check_redirect(redirect_uri)
        if response_type != "code":
            raise SandboxError(400, "unsupported_response_type", "only response_type=code")
        hidden = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": scope,
            "code_challenge": code_challenge or "",
            "code_challenge_method": code_challenge_method or "",
        }
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in hidden.items()
        )
        page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Sandbox: allow Pappus</title></head><body>
<h1>Sandbox social platform</h1>
<p><b>Pappus</b> asks to read: {html.escape(scope)}. It never sees your password.</p>
<form method="post" action="/oauth/authorize">{inputs}
<label>Account or handle <input name="login" required></label>
<label>Password <input name="password" type="password" required></label>
<button name="decision" value="allow">Allow</button>
<button name="decision" value="deny">Deny</button></form></body></html>"""
        return HTMLResponse(page)

    @app.post("/oauth/authorize")
    def authorize(
        client_id: Annotated[str, Form()],
        redirect_uri: Annotated[str, Form()],
        state: Annotated[str, Form()],
        login: Annotated[str, Form()],
        password: Annotated[str, Form()],
        decision: Annotated[str, Form()] = "allow",
        scope: Annotated[str, Form()] = " ".join(SCOPES),
        code_challenge: Annotated[str, Form()] = "",
        code_challenge_method: Annotated[str, Form()] = "",
    ) -> Response:
        if client_id != cfg.client_id:
            raise SandboxError(400, "invalid_client", "unknown client_id")
        check_redirect(redirect_uri)
        join = "&" if "?" in redirect_uri else "?"
        if decision != "allow":
            query = urlencode({"error": "access_denied", "state": state})
            return RedirectResponse(f"{redirect_uri}{join}{query}", status_code=303)
        found = find_account(login)
        if found is None or not hmac.compare_digest(password.encode(), ACCOUNT_PASSWORD.encode()):
            raise SandboxError(401, "access_denied", "wrong account or password")
        granted = " ".join(s for s in SCOPES if s in scope.split())
        if not code_challenge or code_challenge_method != "S256":
            raise SandboxError(400, "invalid_request", "PKCE is required: an S256 code_challenge")
        code = signer.sign(
            "sbx_code",
            {
                "i": found.index,
                "redirect_uri": redirect_uri,
                "scope": granted,
                "challenge": code_challenge,
                "exp": int(time.time()) + CODE_TTL,
                "n": secrets.token_hex(8),
            },
        )
        query = urlencode({"code": code, "state": state})
        return RedirectResponse(f"{redirect_uri}{join}{query}", status_code=303)

    @app.post("/oauth/token")
    def token(
        grant_type: Annotated[str, Form()],
        code: Annotated[str | None, Form()] = None,
        redirect_uri: Annotated[str | None, Form()] = None,
        code_verifier: Annotated[str | None, Form()] = None,
        refresh_token: Annotated[str | None, Form()] = None,
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        check_client(client_id, client_secret)
        if grant_type == "authorization_code":
            payload = signer.read("sbx_code", code or "")
            if payload is None or payload["redirect_uri"] != redirect_uri:
                raise SandboxError(400, "invalid_grant", "the code is invalid or expired")
            if payload["challenge"]:
                digest = _b64(hashlib.sha256((code_verifier or "").encode()).digest())
                if not hmac.compare_digest(digest, payload["challenge"]):
                    raise SandboxError(400, "invalid_grant", "the code_verifier does not match")
            with used_lock:
                if payload["n"] in used_codes:
                    raise SandboxError(400, "invalid_grant", "the code was already used")
                used_codes.add(payload["n"])
            return tokens(int(payload["i"]), payload["scope"])
        if grant_type == "refresh_token":
            payload = signer.read("sbx_rt", refresh_token or "")
            if payload is None:
                raise SandboxError(400, "invalid_grant", "the refresh token is invalid or expired")
            return tokens(int(payload["i"]), payload["scope"])
        raise SandboxError(400, "unsupported_grant_type", f"grant_type {grant_type} unsupported")

    # -- the API -------------------------------------------------------------------------

    @app.get("/api/v1/me")
    def me(authorization: Auth = None) -> dict[str, Any]:
        acc = bearer(authorization, "profile")
        return {
            "open_id": acc.id,
            "handle": acc.handle,
            "display_name": acc.display_name,
            "bio": acc.bio,
            "language": acc.language,
            "region": acc.region,
            "categories": [c for c in (acc.category, acc.secondary_category) if c],
            "followers": acc.followers,
            "following": acc.following,
            "posts": acc.posts_count,
            "has_external_url": acc.has_external_url,
            "created_at": acc.created_at.isoformat(),
            "as_of": w.now(cfg.spec).isoformat(),
        }

    @app.get("/api/v1/me/audience")
    def my_audience(authorization: Auth = None) -> dict[str, Any]:
        acc = bearer(authorization, "audience")
        found = w.audience(cfg.spec, acc)
        return {
            "gender": {"female": found.female_share, "male": round(1 - found.female_share, 4)},
            "age_bands": found.age_bands,
            "top_regions": found.top_regions,
            "interests": found.interests,
            "as_of": w.now(cfg.spec).isoformat(),
        }

    @app.get("/api/v1/me/follower-history")
    def my_history(authorization: Auth = None) -> dict[str, Any]:
        acc = bearer(authorization, "profile")
        days = w.follower_history(cfg.spec, acc)
        return {"days": [{"date": d.isoformat(), "followers": n} for d, n in days]}

    @app.get("/api/v1/me/followers/sample")
    def my_follower_sample(
        authorization: Auth = None, size: Annotated[int, Query(ge=1, le=2000)] = 200
    ) -> dict[str, Any]:
        acc = bearer(authorization, "followers")
        sample = w.follower_sample(cfg.spec, acc, size)
        fields = [asdict(f) for f in sample]
        for item in fields:
            del item["fake"]  # ground truth: staff only
        return {"size": len(fields), "followers": fields}

    @app.get("/api/v1/me/posts")
    def my_posts(
        authorization: Auth = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        acc = bearer(authorization, "posts")
        found = sorted(
            live_of(acc) + w.posts(cfg.spec, acc), key=lambda p: p.published_at, reverse=True
        )
        start = 0
        if cursor:
            ids = [p.id for p in found]
            if cursor not in ids:
                raise SandboxError(400, "invalid_request", "unknown cursor")
            start = ids.index(cursor) + 1
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "posts": [_post_json(p) for p in page],
            "next_cursor": page[-1].id if more and page else None,
        }

    @app.get("/api/v1/posts/{post_id}")
    def get_post(post_id: str, authorization: Auth = None) -> dict[str, Any]:
        bearer(authorization, "posts")
        return _post_json(_post_or_404(post_id))

    @app.get("/api/v1/posts/{post_id}/metrics")
    def post_metrics(
        post_id: str,
        authorization: Auth = None,
        points: Annotated[int, Query(ge=1, le=48)] = 8,
    ) -> dict[str, Any]:
        bearer(authorization, "posts")
        found = _post_or_404(post_id)
        with live_lock:
            item = live.get(post_id)
        if item is not None:
            acc = w.account(cfg.spec, item.account_index)
            at = cfg.clock()
            series = w.live_metric_series(cfg.spec, acc, item.k, item.published_at, at, points)
        else:
            series = w.metric_series(cfg.spec, found, points)
        return {"post_id": post_id, "series": [_metrics_json(m) for m in series]}

    @app.get("/api/v1/posts/{post_id}/comments")
    def post_comments(
        post_id: str,
        authorization: Auth = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        bearer(authorization, "posts")
        found = w.comments(cfg.spec, _post_or_404(post_id), limit)
        return {
            "post_id": post_id,
            "comments": [
                {"id": c.id, "author": c.author, "text": c.text, "created_at": c.created_at}
                for c in found
            ],
        }

    def _post_or_404(post_id: str) -> w.Post:
        with live_lock:
            item = live.get(post_id)
        if item is not None:
            if item.removed_at is not None:
                raise SandboxError(404, "not_found", f"post {post_id} was taken down")
            return live_view(item)
        found = w.post(cfg.spec, post_id)
        if found is None:
            raise SandboxError(404, "not_found", f"no post {post_id}")
        return found

    # -- the creator app: publishing, editing and taking down posts ----------------------

    @app.post("/app/v1/posts", status_code=201)
    def publish(body: NewPost, request: Request, authorization: Auth = None) -> dict[str, Any]:
        """Publish a post as the signed-in creator (what they would do in the platform's app;
        Pappus never calls this)."""
        acc = app_user(authorization)
        with live_lock:
            k = sum(1 for p in live.values() if p.account_index == acc.index)
            item = LivePost(
                id=w.live_post_id(acc, k),
                k=k,
                account_index=acc.index,
                title=body.title,
                text=body.text,
                hashtags=tuple(body.hashtags),
                format=body.format,
                published_at=cfg.clock(),
                partnership_label=body.partnership_label,
                brand=body.brand,
            )
            live[item.id] = item
        return {**_post_json(live_view(item)), "url": _post_url(request, item.id)}

    @app.patch("/app/v1/posts/{post_id}")
    def edit(
        post_id: str, body: PostEdit, request: Request, authorization: Auth = None
    ) -> dict[str, Any]:
        """Edit a live post: its text, or switch the brand-partnership label on or off."""
        item = own_live(post_id, app_user(authorization))
        changes = {k: v for k, v in body.model_dump(exclude_none=True).items()}
        if "hashtags" in changes:
            changes["hashtags"] = tuple(changes["hashtags"])
        with live_lock:
            live[post_id] = replace(item, **changes)
        return {**_post_json(live_view(live[post_id])), "url": _post_url(request, post_id)}

    @app.delete("/app/v1/posts/{post_id}", status_code=204)
    def take_down(post_id: str, authorization: Auth = None) -> Response:
        item = own_live(post_id, app_user(authorization))
        with live_lock:
            live[post_id] = replace(item, removed_at=cfg.clock())
        return Response(status_code=204)

    @app.get("/posts/{post_id}", response_class=HTMLResponse)
    def public_page(post_id: str) -> HTMLResponse:
        """The post's public page: the URL a creator shares and submits to Pappus."""
        found = _post_or_404(post_id)
        label = "<p><b>品牌合作 · Brand partnership</b></p>" if found.partnership_label else ""
        tags = " ".join(html.escape(t) for t in found.hashtags)
        page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>{html.escape(found.title or found.id)}</title></head><body>{label}
<h1>{html.escape(found.title)}</h1><p>{html.escape(found.text)}</p><p>{tags}</p></body></html>"""
        return HTMLResponse(page)

    # -- staff: the ground truth, for evaluating vetting ---------------------------------

    def staff(key: str | None) -> None:
        if not key or not hmac.compare_digest(key.encode(), cfg.staff_key.encode()):
            raise SandboxError(403, "forbidden", "the X-Staff-Key header is missing or wrong")

    @app.get("/staff/v1/labels")
    def labels(
        x_staff_key: StaffKey = None,
        start: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> dict[str, Any]:
        """Which accounts are fraudulent, and how: in index order, `limit` from `start`."""
        staff(x_staff_key)
        end = min(cfg.spec.accounts, start + limit)
        items = []
        for index in range(start, end):
            acc = w.account(cfg.spec, index)
            items.append(
                {
                    "open_id": acc.id,
                    "handle": acc.handle,
                    "fraudulent": bool(acc.fraud),
                    "fraud_kinds": list(acc.fraud),
                    "real_follower_share": acc.real_follower_share,
                }
            )
        return {"labels": items, "next_start": end if end < cfg.spec.accounts else None}

    @app.get("/staff/v1/world")
    def world_info(x_staff_key: StaffKey = None) -> dict[str, Any]:
        staff(x_staff_key)
        spec = cfg.spec
        return {
            "seed": spec.seed,
            "accounts": spec.accounts,
            "fraud_share": spec.fraud_share,
            "today": spec.today.isoformat(),
            "faults": {"failure_rate": cfg.failure_rate, "slow_rate": cfg.slow_rate},
        }

    @app.put("/staff/v1/faults")
    def set_faults(body: dict[str, float], x_staff_key: StaffKey = None) -> dict[str, float]:
        """Change the injected faults at run time (tests of a connector's retries)."""
        staff(x_staff_key)
        for name in ("failure_rate", "slow_rate", "slow_seconds"):
            if name in body:
                value = float(body[name])
                if value < 0 or (name != "slow_seconds" and value > 1):
                    raise SandboxError(400, "invalid_request", f"{name} is out of range")
                setattr(cfg, name, value)
        return {"failure_rate": cfg.failure_rate, "slow_rate": cfg.slow_rate}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _metrics_json(m: w.MetricPoint) -> dict[str, Any]:
    return {
        "at": m.at.isoformat(),
        "views": m.views,
        "likes": m.likes,
        "saves": m.saves,
        "comments": m.comments,
        "shares": m.shares,
    }


def _post_json(p: w.Post) -> dict[str, Any]:
    return {
        "id": p.id,
        "author_open_id": p.account_id,
        "title": p.title,
        "text": p.text,
        "hashtags": list(p.hashtags),
        "format": p.format,
        "published_at": p.published_at.isoformat(),
        "partnership_label": p.partnership_label,
        "metrics": _metrics_json(p.metrics),
    }


def _post_url(request: Request, post_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/posts/{post_id}"


def config_from_options(
    seed: int, accounts: int, fraud_share: float, today: date | None, **extra: Any
) -> SandboxConfig:
    day = today or datetime.now(UTC).date()
    spec = w.WorldSpec(seed=seed, accounts=accounts, fraud_share=fraud_share, today=day)
    return SandboxConfig(spec=spec, **extra)
