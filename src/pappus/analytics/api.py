"""HTTP routes of the analytics domain: links, coupons, stores, the conversion webhook, the
metric dictionary and sentiment. Reports are in reports_api.py."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from pappus.accounts.deps import CurrentPrincipal, PrincipalOutsideTransaction
from pappus.accounts.principal import Access
from pappus.analytics import comments, conversions, dictionary, links
from pappus.analytics import repository as repo
from pappus.analytics.models import Conversion, TrackingLink
from pappus.analytics.schemas import (
    CommentSync,
    CommentView,
    ConversionView,
    CouponCreate,
    CouponView,
    LinkCreate,
    LinkView,
    SentimentItem,
    SentimentRequest,
    SentimentResponse,
    StoreCreate,
    StoreCreated,
    StoreView,
    WebhookResult,
)
from pappus.config import get_settings
from pappus.db import DbSession
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.kit.routing import DomainRouter

router = DomainRouter(tags=["analytics"])
Paging = Annotated[PageParams, Depends(page_params)]


def _link_views(session: DbSession, found: list[TrackingLink]) -> list[LinkView]:
    totals = repo.link_totals(session, [link.id for link in found])
    views = []
    for link in found:
        clicks, valid = totals.get(link.id, (0, 0))
        views.append(
            LinkView(
                id=link.id,
                code=link.code,
                short_path=f"/r/{link.code}",
                order_id=link.order_id,
                campaign_id=link.campaign_id,
                destination_url=link.destination_url,
                target_url=link.target_url,
                label=link.label,
                active=link.active,
                created_at=link.created_at,
                clicks=clicks,
                valid_clicks=valid,
            )
        )
    return views


@router.post("/orders/{order_id}/links", status_code=201, response_model=LinkView)
def create_link(
    order_id: str, body: LinkCreate, session: DbSession, principal: CurrentPrincipal
) -> JSONResponse:
    """A tracking link `/r/{code}` for the order and a destination, with UTM parameters added.
    The same destination again answers 200 with the existing link."""
    link, created = links.create_link(
        session, principal, order_id, body.destination, body.label, body.utm
    )
    return JSONResponse(
        _link_views(session, [link])[0].model_dump(mode="json"), status_code=201 if created else 200
    )


@router.get("/orders/{order_id}/links", response_model=Page[LinkView])
def list_links(order_id: str, session: DbSession, principal: CurrentPrincipal) -> Page[LinkView]:
    """The order's tracking links (the creator sees them too, to put in the post)."""
    found = links.list_links(session, principal, order_id)
    return Page(items=_link_views(session, found))


@router.post("/links/{link_id}/pause", response_model=LinkView)
def pause_link(link_id: str, session: DbSession, principal: CurrentPrincipal) -> LinkView:
    """Pause a link: it answers 410 and records nothing. Server processes cache a link for up
    to a minute, so a pause takes that long to reach all of them."""
    return _link_views(session, [links.set_active(session, principal, link_id, False)])[0]


@router.post("/links/{link_id}/resume", response_model=LinkView)
def resume_link(link_id: str, session: DbSession, principal: CurrentPrincipal) -> LinkView:
    """Resume a paused link."""
    return _link_views(session, [links.set_active(session, principal, link_id, True)])[0]


@router.post("/orders/{order_id}/coupons", status_code=201, response_model=CouponView)
def create_coupon(
    order_id: str, body: CouponCreate, session: DbSession, principal: CurrentPrincipal
) -> JSONResponse:
    """A coupon code unique within the brand that attributes the store's orders to this
    order. Asking again for the same code on the same order answers 200."""
    coupon, created = conversions.create_coupon(
        session, principal, order_id, body.code, body.description
    )
    return JSONResponse(
        CouponView.model_validate(coupon).model_dump(mode="json"),
        status_code=201 if created else 200,
    )


@router.get("/orders/{order_id}/coupons", response_model=Page[CouponView])
def list_coupons(
    order_id: str, session: DbSession, principal: CurrentPrincipal
) -> Page[CouponView]:
    found = conversions.list_coupons(session, principal, order_id)
    return Page(items=[CouponView.model_validate(c) for c in found])


@router.post("/stores", status_code=201, response_model=StoreCreated)
def create_store(
    body: StoreCreate, session: DbSession, principal: CurrentPrincipal
) -> StoreCreated:
    """Register a store that reports conversions; the signing secret is shown only here."""
    organization_id = body.organization_id or principal.default_organization()
    store, secret = conversions.create_store(
        session,
        principal,
        organization_id,
        body.name,
        body.currency,
        body.attribution_window_days,
    )
    return StoreCreated.model_validate(
        {**StoreView.model_validate(store).model_dump(), "signing_secret": secret}
    )


@router.get("/stores", response_model=Page[StoreView])
def list_stores(
    session: DbSession,
    principal: CurrentPrincipal,
    organization_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[StoreView]:
    organization = organization_id or principal.default_organization(Access.read)
    found = conversions.list_stores(session, principal, organization)
    return Page(items=[StoreView.model_validate(s) for s in found])


@router.post(
    "/conversions",
    status_code=201,
    response_model=WebhookResult,
    responses={200: {"description": "A replay: the first delivery's result"}},
)
async def conversion_webhook(
    request: Request,
    session: DbSession,
    store_id: Annotated[str, Header(alias=conversions.STORE_HEADER, max_length=40)] = "",
    signature: Annotated[str, Header(alias=conversions.SIGNATURE_HEADER, max_length=1000)] = "",
) -> JSONResponse:
    """A store's order events, signed `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
    store's secret: `order.paid` (attributed by coupon, else by last click), `order.refunded`
    (partial or full; full voids it) and `order.cancelled` (voids it). Idempotent by the
    store's order id and refund id; timestamps more than 5 minutes off are refused."""
    body = await request.body()
    tolerance = get_settings().webhook_tolerance_seconds
    outcome = await run_in_threadpool(
        conversions.receive, session, store_id, signature, body, tolerance
    )
    result = WebhookResult(
        event=outcome.event,
        created=outcome.created,
        conversion=ConversionView.model_validate(outcome.conversion),
    )
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if outcome.created else 200)


@router.get("/conversions", response_model=Page[ConversionView])
def list_conversions(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    organization_id: Annotated[str | None, Query(max_length=40)] = None,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    campaign_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Literal["attributed", "unattributed", "voided"] | None = None,
) -> Page[ConversionView]:
    """The brand's conversions, newest first, with each one's attribution evidence."""
    organization = organization_id or principal.default_organization(Access.read)
    found: list[Conversion] = conversions.list_conversions(
        session,
        principal,
        organization,
        order_id=order_id,
        campaign_id=campaign_id,
        status=status,
        after_id=page.after_id,
        limit=page.limit + 1,
    )
    return Page(
        items=[ConversionView.model_validate(c) for c in found[: page.limit]],
        next_cursor=next_cursor([c.id for c in found], page.limit),
    )


@router.get("/metrics/dictionary")
def metric_dictionary() -> dict[str, object]:
    """Every metric Pappus reports: formula, unit, source, and the dictionary's version."""
    return dict(dictionary.as_json())


@router.post("/orders/{order_id}/comments/sync", response_model=CommentSync)
def sync_comments(
    order_id: str, request: Request, principal: PrincipalOutsideTransaction
) -> CommentSync:
    """Read the post's comments from its platform now (they are also read every half hour
    while the post is watched) and classify the new ones."""
    stored = comments.request_sync(request.app.state.db, principal, order_id)
    return CommentSync(new_comments=stored)


@router.get("/orders/{order_id}/comments", response_model=Page[CommentView])
def list_comments(
    order_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    sentiment: Literal["positive", "neutral", "negative"] | None = None,
) -> Page[CommentView]:
    """The post's stored comments, newest first, with their sentiment."""
    found = comments.list_comments(
        session, principal, order_id, sentiment, page.after_id, page.limit + 1
    )
    return Page(
        items=[CommentView.model_validate(c) for c in found[: page.limit]],
        next_cursor=next_cursor([c.id for c in found], page.limit),
    )


@router.post("/analytics/sentiment", response_model=SentimentResponse)
def sentiment(body: SentimentRequest, principal: CurrentPrincipal) -> SentimentResponse:
    """Classify comments (Chinese or English) as positive, neutral or negative; `score` is the
    probability that a text is positive. The model ships in the package (docs/sentiment.md)."""
    from pappus.sentiment.model import MODEL_VERSION, classify_many

    results = classify_many(body.texts)
    return SentimentResponse(
        items=[SentimentItem(label=r.label, score=r.score) for r in results],
        model=MODEL_VERSION,
    )
