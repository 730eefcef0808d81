"""The PNG chart of bench/discovery.py: latency percentiles of the API against the raw SQL
floor, per backend, with the issue's targets; and the p50 per kind of search (matplotlib,
optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import say

COLORS = {"floor": "#8C8C8C", "api": "#4C72B0"}
NAMES = {"floor": "raw SQL floor", "api": "API over HTTP"}
PERCENTILES = (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))
TARGETS = {"p95": 50.0, "p99": 150.0}


def draw_chart(report: dict[str, Any], path: Path) -> bool:
    """Top: p50/p95/p99 bars, API beside floor, one panel per backend (log scale), target
    marks on p95 and p99. Bottom: p50 per kind of search, API beside floor."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        say("  (no chart: pip install matplotlib to draw one)")
        return False
    rows = report["results"]
    backends = [b for b in report["settings"]["backends"] if any(r["backend"] == b for r in rows)]
    if not backends:
        return False
    fig, axes = plt.subplots(2, len(backends), figsize=(6.5 * len(backends), 9), squeeze=False)
    width = 0.38
    for column, backend in enumerate(backends):
        top, bottom = axes[0][column], axes[1][column]
        layers = [
            layer
            for layer in ("floor", "api")
            if any(r["backend"] == backend and r["layer"] == layer for r in rows)
        ]
        for offset, layer in enumerate(layers):
            row = next(
                r
                for r in rows
                if r["backend"] == backend and r["layer"] == layer and r["kind"] == "all"
            )
            values = [row[key] or 0.001 for key, _ in PERCENTILES]
            xs = [i + (offset - (len(layers) - 1) / 2) * width for i in range(len(PERCENTILES))]
            qps = f", {row['qps']:,.1f} q/s" if row.get("qps") else ""
            bars = top.bar(xs, values, width, color=COLORS[layer], label=f"{NAMES[layer]}{qps}")
            for bar, value in zip(bars, values, strict=True):
                top.annotate(
                    f"{value:,.1f}" if value < 100 else f"{value:,.0f}",
                    (bar.get_x() + bar.get_width() / 2, value),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
            kinds = [
                r
                for r in rows
                if r["backend"] == backend and r["layer"] == layer and r["kind"] != "all"
            ]
            xs = [i + (offset - (len(layers) - 1) / 2) * width for i in range(len(kinds))]
            bottom.bar(
                xs,
                [r["p50_ms"] or 0.001 for r in kinds],
                width,
                color=COLORS[layer],
                label=NAMES[layer],
            )
            bottom.set_xticks(range(len(kinds)), [f"{r['kind']}\n({r['queries']})" for r in kinds])
        for i, (_, name) in enumerate(PERCENTILES):
            if name in TARGETS:
                top.hlines(
                    TARGETS[name], i - 0.45, i + 0.45, colors="#C44E52", linestyles="--", lw=1.5
                )
                top.annotate(
                    f"target {TARGETS[name]:g} ms",
                    (i - 0.45, TARGETS[name]),
                    fontsize=7.5,
                    color="#C44E52",
                    ha="left",
                    va="bottom",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
                )
        top.set_xticks(range(len(PERCENTILES)), [name for _, name in PERCENTILES])
        top.set_title(f"{backend}: latency of one search (whole mix)")
        bottom.set_title(f"{backend}: p50 by kind of search (searches)")
        for ax in (top, bottom):
            ax.set_yscale("log")
            low, high = ax.get_ylim()
            ax.set_ylim(low, high * 3)  # room for the legend
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
            ax.set_ylabel("milliseconds, log scale")
            ax.grid(alpha=0.3, which="both", axis="y")
            ax.legend(fontsize=8, loc="upper left")
    settings, machine = report["settings"], report["machine"]
    fig.suptitle(
        f"Pappus discovery: {settings['creators']:,} creators, {settings['queries']:,} searches, "
        f"{settings['clients']} client{'s' * (settings['clients'] > 1)}",
        fontsize=13,
        fontweight="bold",
    )
    fig.text(
        0.5,
        0.01,
        f"{machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}; the "
        "client, the server and the database share the CPUs. Lower is better.",
        ha="center",
        fontsize=8.5,
        color="#444444",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
