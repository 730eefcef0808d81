"""create_app(): routers, middleware, error handlers and lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse

from pappus import __version__
from pappus.accounts.api import router as accounts_router
from pappus.analytics.api import router as analytics_router
from pappus.analytics.clicks import ClickBuffer, visitor_key
from pappus.analytics.redirect import TrackingRedirect
from pappus.analytics.reports_api import router as reports_router
from pappus.audit.api import router as audit_router
from pappus.campaigns.api import router as campaigns_router
from pappus.compliance.api import router as compliance_router
from pappus.compliance.packs import shipped_packs
from pappus.config import Settings, get_settings
from pappus.connectors.api import router as connectors_router
from pappus.creators.api import router as creators_router
from pappus.creators.lists_api import router as lists_router
from pappus.db import Database
from pappus.errors import install_error_handlers, problem
from pappus.ledger.api import router as ledger_router
from pappus.orders.api import router as orders_router
from pappus.vetting.api import router as vetting_router

logger = logging.getLogger("pappus")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/v1"


class BodySizeLimit:
    """Refuse bodies over the limit with 413 problem+json, whether or not Content-Length is
    sent (chunked bodies are counted as they stream)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._refuse(scope, receive, send)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes through FastAPI's body parsing untouched.
                    raise HTTPException(
                        413, f"request bodies are limited to {self.max_bytes} bytes"
                    )
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "payload_too_large",
            "Request body too large",
            f"request bodies are limited to {self.max_bytes} bytes",
            scope.get("path", ""),
        )
        await response(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    migrate_on_start: bool | None = None,
    run_jobs: bool | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    # A shipped rule pack that does not validate stops the start, not the first check.
    shipped_packs()
    db = database or Database.from_settings(settings)
    should_migrate = settings.is_sqlite if migrate_on_start is None else migrate_on_start
    should_run_jobs = settings.jobs_in_process if run_jobs is None else run_jobs
    clicks = ClickBuffer(db, settings.click_flush_ms / 1000, sink=_click_sink(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if should_migrate:
            from pappus.migrate import upgrade

            upgrade(db.url)
        consumer = _start_jobs(db) if should_run_jobs else None
        if settings.discovery_preload:
            from pappus.creators.service import preload_discovery

            preload_discovery(db, freeze_heap=settings.freeze_heap_at_start)
        if settings.freeze_heap_at_start:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            clicks.close()
            if consumer is not None:
                consumer.stop(graceful=True)
            if database is None:
                db.dispose()

    app = FastAPI(
        title="Pappus API",
        version=__version__,
        summary="Open-source influencer marketing: briefs, creators, escrowed orders.",
        description=(
            "Errors are RFC 9457 `application/problem+json` with a stable `code`. Lists are "
            "`{items, next_cursor}` with `?limit=&cursor=`. Money is integer minor units with "
            "an ISO 4217 currency. Writes that create orders or move money honour "
            "`Idempotency-Key`."
        ),
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.db = db
    app.state.clicks = clicks
    app.state.settings = settings
    install_error_handlers(app)
    for router in (
        accounts_router,
        creators_router,
        connectors_router,
        lists_router,
        campaigns_router,
        orders_router,
        ledger_router,
        vetting_router,
        compliance_router,
        audit_router,
        analytics_router,
        reports_router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return (
            "<!doctype html><title>Pappus</title><h1>Pappus</h1>"
            "<p>Open-source influencer marketing. "
            "<a href='/docs'>API documentation</a> · <a href='/openapi.json'>OpenAPI</a></p>"
        )

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        """Liveness, and whether this process's discovery index is ready to answer fast."""
        from pappus.creators.service import discovery_status

        return {"status": "ok", "version": __version__, "discovery": discovery_status(db)}

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(TrackingRedirect, db=db, buffer=clicks, key=_visitor_key(db))
    return app


def _click_sink(settings: Settings) -> Callable[[list[Any]], None] | None:
    """With Redis, a server hands its clicks to the workers as jobs (one per batch) and does
    no database work for them; embedded, it writes them itself."""
    if not settings.redis_url:
        return None
    from pappus.analytics.tasks import enqueue_clicks

    return enqueue_clicks


def _visitor_key(db: Database) -> Callable[[], bytes]:
    """The visitor-hash key, read from the database once per process when first needed."""
    cached: list[bytes] = []

    def key() -> bytes:
        if not cached:
            from pappus.ledger.payments import encryption_key

            with db.unit_of_work() as session:
                cached.append(visitor_key(encryption_key(session)))
        return cached[0]

    return key


def _start_jobs(db: Database) -> Any:
    """Run the Huey consumer in this process (embedded mode): a worker and the scheduler."""
    from pappus.jobs import huey, load_tasks, use_database

    use_database(db)
    load_tasks()
    consumer = huey.create_consumer(
        workers=1, worker_type="thread", periodic=True, check_worker_health=False
    )
    # The consumer would take over SIGINT/SIGTERM from the web server, which then never
    # shuts down; the server owns the signals and stops the consumer in the lifespan.
    consumer._set_signal_handlers = lambda: None
    consumer.start()
    logger.info("job consumer started in-process")
    return consumer
