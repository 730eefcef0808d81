"""HTTP routes of analytics reports: JSON, or `?format=csv|xlsx` to download."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from pappus.accounts.deps import CurrentPrincipal
from pappus.analytics import exports, reports
from pappus.creators.taxonomy import CATEGORIES
from pappus.db import DbSession
from pappus.errors import InvalidInput
from pappus.kit.routing import DomainRouter

router = DomainRouter(tags=["analytics"])

Format = Annotated[
    Literal["json", "csv", "xlsx"],
    Query(description="json (default), csv (one table, see `part`) or xlsx (every table, charts)"),
]
Part = Annotated[Literal["orders", "series"], Query(description="Which table a CSV holds")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_DESCRIPTION = (
    "Metrics from the metric dictionary (`GET /metrics/dictionary`), computed from summed "
    "inputs per currency; per-order rows; a daily series for charts; click quality; the "
    "benchmark of the subject's category and tier."
)


def _answer(report: dict[str, Any], format: str, part: str, name: str) -> Response:
    if format == "csv":
        return Response(
            exports.to_csv(report, part),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}-{part}.csv"'},
        )
    if format == "xlsx":
        return Response(
            exports.to_xlsx(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return JSONResponse(jsonable_encoder(report))


@router.get("/orders/{order_id}/report", description=REPORT_DESCRIPTION)
def order_report(
    order_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    format: Format = "json",
    part: Part = "orders",
) -> Response:
    """An order's performance (the brand, the creator and staff)."""
    report = reports.order_report(session, principal, order_id)
    return _answer(report, format, part, f"order-{order_id}")


@router.get("/campaigns/{campaign_id}/report", description=REPORT_DESCRIPTION)
def campaign_report(
    campaign_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    format: Format = "json",
    part: Part = "orders",
    brand_term: Annotated[
        list[str] | None,
        Query(max_length=10, description="Names of the brand in comments (default: product)"),
    ] = None,
    competitor: Annotated[
        list[str] | None,
        Query(max_length=10, description="A competitor's name, for share of voice"),
    ] = None,
) -> Response:
    """A campaign's spend, reach, engagement, clicks, conversions and ROAS, beside its
    benchmark and the brand's previous campaigns; comment sentiment, hot words, and share of
    voice against the named competitors."""
    for field, names in (("brand_term", brand_term), ("competitor", competitor)):
        if any(not 1 <= len(name.strip()) <= 60 for name in names or []):
            raise InvalidInput("names are 1 to 60 characters", field=f"query.{field}")
    report = reports.campaign_report(
        session, principal, campaign_id, brand_terms=brand_term, competitors=competitor
    )
    return _answer(report, format, part, f"campaign-{campaign_id}")


@router.get("/creators/{creator_id}/report", description=REPORT_DESCRIPTION)
def creator_report(
    creator_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    format: Format = "json",
    part: Part = "orders",
) -> Response:
    """A creator's orders: all of them for the creator and staff, a brand's own for a brand."""
    report = reports.creator_report(session, principal, creator_id)
    return _answer(report, format, part, f"creator-{creator_id}")


@router.get("/organizations/{organization_id}/report", description=REPORT_DESCRIPTION)
def brand_report(
    organization_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    format: Format = "json",
    part: Part = "orders",
) -> Response:
    """A brand's orders over all its campaigns, with one row per campaign."""
    report = reports.brand_report(session, principal, organization_id)
    return _answer(report, format, part, f"brand-{organization_id}")


@router.get("/benchmarks")
def benchmarks(
    session: DbSession,
    principal: CurrentPrincipal,
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "CNY",
    category: Annotated[str, Query(max_length=40)] = "all",
    tier: Literal["all", "under", "nano", "koc", "mid", "head"] = "all",
) -> dict[str, Any]:
    """Quartiles of the platform's measured orders for a category and tier, falling back to
    wider groups when fewer than five orders fit; recomputed every ten minutes."""
    reports.check_benchmark_access(principal)
    if category != "all" and category not in CATEGORIES:
        raise InvalidInput(
            f"unknown category '{category}'; see docs/creators.md", field="query.category"
        )
    return reports.benchmark(session, currency, category, tier)
