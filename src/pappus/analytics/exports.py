"""Reports as CSV (one table) and XLSX (every table, with a chart of the time series)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter

from pappus.analytics.dictionary import METRICS

ORDER_COLUMNS = (
    "order_id",
    "campaign_id",
    "creator_id",
    "state",
    "currency",
    "category",
    "tier",
    "published_at",
    "window_end",
    "clicks_source",
)
SERIES_COLUMNS = (
    "day",
    "views",
    "likes",
    "comments",
    "saves",
    "shares",
    "engagements",
    "clicks",
    "valid_clicks",
    "conversions",
    "revenue_amount",
)
METRIC_KEYS = tuple(m.key for m in METRICS)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        # Control characters are not allowed in a workbook (openpyxl refuses them).
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return "" if value is None else value


def order_rows(report: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [[*ORDER_COLUMNS, *METRIC_KEYS]]
    for row in report["orders"]:
        rows.append(
            [_cell(row[c]) for c in ORDER_COLUMNS] + [_cell(row["metrics"][k]) for k in METRIC_KEYS]
        )
    for currency, totals in report["totals"].items():
        total = ["TOTAL"] + [""] * (len(ORDER_COLUMNS) - 1)
        total[ORDER_COLUMNS.index("currency")] = currency
        rows.append(total + [_cell(totals[k]) for k in METRIC_KEYS])
    return rows


def series_rows(report: dict[str, Any]) -> list[list[Any]]:
    return [list(SERIES_COLUMNS)] + [
        [_cell(p[c]) for c in SERIES_COLUMNS] for p in report["series"]
    ]


def to_csv(report: dict[str, Any], part: str) -> str:
    """One table: `orders` (one row an order, then a TOTAL row per currency) or `series`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(order_rows(report) if part == "orders" else series_rows(report))
    return buffer.getvalue()


def _sheet(workbook: Workbook, title: str, rows: list[list[Any]]) -> Any:
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append(row)
    for index, header in enumerate(rows[0] if rows else [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(str(header)) + 2)
    sheet.freeze_panes = "A2"
    return sheet


def to_xlsx(report: dict[str, Any]) -> bytes:
    workbook = Workbook()
    # The default first sheet is replaced by ours, whose type is known.
    workbook.remove(workbook.worksheets[0])
    summary = workbook.create_sheet("Summary")
    summary.append(["Report", report["kind"], "subject", _cell(str(report["subject"].get("id")))])
    if report["subject"].get("name"):
        summary.append(["Name", _cell(report["subject"]["name"])])
    summary.append(["Metric dictionary version", report["dictionary_version"]])
    summary.append(["Generated at", _cell(report["generated_at"])])
    summary.append([])
    currencies = list(report["totals"])
    summary.append(["metric", "name", "unit", "formula", *currencies])
    for metric in METRICS:
        summary.append(
            [metric.key, metric.name, metric.unit, metric.formula]
            + [_cell(report["totals"][c][metric.key]) for c in currencies]
        )
    for column, width in zip("ABCD", (30, 34, 28, 44), strict=True):
        summary.column_dimensions[column].width = width
    _sheet(workbook, "Orders", order_rows(report))
    series = _sheet(workbook, "Series", series_rows(report))
    points = len(report["series"])
    if points:
        chart = LineChart()
        chart.title = "Views and engagements (cumulative)"
        chart.y_axis.title = "count"
        chart.x_axis.title = "day"
        data = Reference(series, min_col=2, max_col=2, min_row=1, max_row=points + 1)
        chart.add_data(data, titles_from_data=True)
        engagements = Reference(series, min_col=7, max_col=7, min_row=1, max_row=points + 1)
        chart.add_data(engagements, titles_from_data=True)
        chart.set_categories(Reference(series, min_col=1, min_row=2, max_row=points + 1))
        chart.width, chart.height = 24, 10
        series.add_chart(chart, "M2")
        clicks = BarChart()
        clicks.title = "Valid clicks and conversions per day"
        clicks.add_data(
            Reference(series, min_col=9, max_col=10, min_row=1, max_row=points + 1),
            titles_from_data=True,
        )
        clicks.set_categories(Reference(series, min_col=1, min_row=2, max_row=points + 1))
        clicks.width, clicks.height = 24, 10
        series.add_chart(clicks, "M24")
    benchmark = report.get("benchmark")
    if benchmark:
        peers = benchmark["peers"]
        rows: list[list[Any]] = [
            ["peers", f"{peers['currency']} {peers['category']} / {peers['tier']}"],
            ["orders", peers["orders"]],
            [],
            ["metric", "value", "median", "index", "quartile"],
        ]
        for name, entry in benchmark["comparison"].items():
            rows.append(
                [name, entry["value"], entry["median"], _cell(entry["index"]), entry["quartile"]]
            )
        _sheet(workbook, "Benchmark", rows)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
