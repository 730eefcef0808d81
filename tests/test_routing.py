"""`DomainRouter` only skips routers that cannot match: every route of the app is still
reached, a path none matches is still a 404, and a wrong method still a 405."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pappus.kit.routing import DomainRouter
from tests.fixtures.builders import World


def test_a_router_declines_paths_without_its_first_segments_and_keeps_its_routes() -> None:
    orders, anything = DomainRouter(), DomainRouter()

    @orders.get("/orders/{order_id}")
    def order(order_id: str) -> dict[str, str]:
        return {"order": order_id}

    @orders.post("/disputes/{dispute_id}/resolve")
    def resolve(dispute_id: str) -> dict[str, str]:
        return {"resolved": dispute_id}

    @anything.get("/{slug}")
    def catch_all(slug: str) -> dict[str, str]:
        return {"slug": slug}

    app = FastAPI()
    app.include_router(orders, prefix="/api/v1")
    app.include_router(anything, prefix="/api/v1")
    client = TestClient(app)
    assert orders._segments() == ("/disputes", "/orders")
    assert anything._segments() == ()  # a parameter first: it could match anything
    assert client.get("/api/v1/orders/o1").json() == {"order": "o1"}
    assert client.post("/api/v1/disputes/d1/resolve").json() == {"resolved": "d1"}
    assert client.get("/api/v1/campaigns").json() == {"slug": "campaigns"}
    assert client.get("/api/v1/orders/o1/x").status_code == 404
    assert client.delete("/api/v1/orders/o1").status_code == 405

    @orders.get("/payouts")
    def payouts() -> list[str]:
        return []

    assert "/payouts" in orders._segments()  # a route added later is seen
    assert client.get("/api/v1/payouts").json() == []


def test_every_route_of_the_app_is_reached(world: World) -> None:
    """Each API path of the OpenAPI document, its parameters filled in, reaches a route: a
    method no route takes gets 405, never the 404 of no route."""
    schema = world.client.get("/openapi.json").json()
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/")]
    assert len(paths) > 100
    for path in paths:
        filled = re.sub(r"\{[^}]+\}", "x1", path)
        response = world.client.request("TRACE", filled)
        assert response.status_code == 405, (path, response.status_code)
