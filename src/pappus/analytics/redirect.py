"""`GET /r/{code}`: the tracking redirect, answered before FastAPI's routing.

It is the busiest path Pappus has and the simplest: a per-process cache of codes, a click
handed to the buffer, a 302. No database work on the request unless the code is not cached.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from pappus.analytics.clicks import ClickBuffer, ClickIn, is_bot_request, visitor_hash
from pappus.analytics.links import LinkTarget, resolve
from pappus.db import Database
from pappus.errors import problem
from pappus.kit.clock import now
from pappus.kit.ids import new_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX = "/r/"
CODE = re.compile(r"[A-Za-z0-9]{4,16}")
# A link's target never changes; `active` may, so entries are re-read after a minute.
CACHE_SECONDS = 60.0
MISS_CACHE_SECONDS = 5.0
CACHE_SIZE = 100_000


class CachedLink:
    """A link as the redirect uses it, with its Location split around the click id once."""

    __slots__ = ("location_prefix", "location_suffix", "target")

    def __init__(self, target: LinkTarget) -> None:
        self.target = target
        self.location_prefix, self.location_suffix = target.location_parts


class LinkCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._entries: dict[str, tuple[float, CachedLink | None]] = {}

    def _load(self, code: str) -> CachedLink | None:
        with self.db.unit_of_work(write=False) as session:
            target = resolve(session, code)
        return CachedLink(target) if target is not None else None

    async def get(self, code: str) -> CachedLink | None:
        entry = self._entries.get(code)
        moment = time.monotonic()
        if entry is not None and entry[0] > moment:
            return entry[1]
        target = await run_in_threadpool(self._load, code)
        if len(self._entries) >= CACHE_SIZE:
            self._entries.clear()
        ttl = CACHE_SECONDS if target is not None else MISS_CACHE_SECONDS
        self._entries[code] = (moment + ttl, target)
        return target


WANTED_HEADERS = frozenset({b"user-agent", b"referer", b"sec-purpose", b"purpose"})


def _headers(scope: Scope) -> dict[bytes, str]:
    """The few request headers the redirect reads, in one pass."""
    return {
        key: value.decode("latin-1")
        for key, value in scope.get("headers", ())
        if key in WANTED_HEADERS
    }


async def _problem(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, detail: str
) -> None:
    titles = {404: "Not found", 405: "Method not allowed", 410: "Gone"}
    response = problem(status, code, titles[status], detail, scope.get("path", ""))
    response.headers["cache-control"] = "no-store"
    await response(scope, receive, send)


class TrackingRedirect:
    """ASGI middleware answering `/r/{code}`; everything else goes to the app."""

    def __init__(
        self, app: ASGIApp, db: Database, buffer: ClickBuffer, key: Callable[[], bytes]
    ) -> None:
        self.app = app
        self.cache = LinkCache(db)
        self.buffer = buffer
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        code = path[len(PREFIX) :]
        if method not in {"GET", "HEAD"}:
            await _problem(
                scope, receive, send, 405, "method_not_allowed", "tracking links answer GET"
            )
            return
        cached = await self.cache.get(code) if CODE.fullmatch(code) else None
        if cached is None:
            await _problem(scope, receive, send, 404, "not_found", "no tracking link has this code")
            return
        target = cached.target
        if not target.active:
            await _problem(
                scope, receive, send, 410, "link_inactive", "this tracking link is paused"
            )
            return
        headers = _headers(scope)
        user_agent = headers.get(b"user-agent", "")[:300]
        purpose = headers.get(b"sec-purpose") or headers.get(b"purpose", "")
        client = scope.get("client") or ("", 0)
        click_id = new_id("clk")
        self.buffer.add(
            ClickIn(
                id=click_id,
                link_id=target.link_id,
                order_id=target.order_id,
                campaign_id=target.campaign_id,
                organization_id=target.organization_id,
                at=now(),
                visitor_hash=visitor_hash(self.key(), str(client[0]), user_agent),
                user_agent=user_agent,
                referrer=headers.get(b"referer", "")[:500],
                is_bot=is_bot_request(user_agent, method, purpose),
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 302,
                "headers": [
                    (
                        b"location",
                        f"{cached.location_prefix}{click_id}{cached.location_suffix}".encode(),
                    ),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                    (b"referrer-policy", b"no-referrer-when-downgrade"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
