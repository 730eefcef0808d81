"""The raw-ASGI HTTP floor of bench/analytics.py: the smallest app uvicorn can serve, behind
the same uvicorn command as Pappus (`analytics_hello:create_app --factory`). Every request
answers 200 with a two-byte body and no routing, middleware or framework at all, so the
redirect's `vs hello` ratio compares it with uvicorn itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
}
BODY = {"type": "http.response.body", "body": b"ok"}


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(START)
    await send(BODY)


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    return hello
