"""The PNG chart of bench/analytics.py: requests/s and p99 of the redirect beside its HTTP
floors, and click ingestion beside its raw INSERT floor, with the issue's targets
(matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import say

COLORS = {"-": "#8C8C8C", "sqlite": "#4C72B0", "postgresql": "#DD8452"}


def _label(row: dict[str, Any]) -> str:
    scenario = row["scenario"].split(" (")[0]
    backend = "" if row["backend"] == "-" else f"{row['backend']}\n"
    return f"{backend}{scenario}\n{row['workers']}w, {row['load']}"


def draw_chart(report: dict[str, Any], path: Path) -> bool:
    """Three panels: redirect req/s, redirect p50/p99 (log), ingestion events/s."""
    redirect, ingest = report["redirect"], report["ingest"]
    if not redirect and not ingest:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import to_rgba
    except ImportError:
        say("  (no chart: pip install matplotlib to draw one)")
        return False
    fig, (rates, latency, ingestion) = plt.subplots(
        3, 1, figsize=(13, 13), gridspec_kw={"height_ratios": [1.1, 1.1, 0.9]}
    )
    if redirect:
        positions = range(len(redirect))
        colors = [COLORS.get(r["backend"], "#777777") for r in redirect]
        rates.bar(positions, [r["rate"] for r in redirect], color=colors)
        for x, row in zip(positions, redirect, strict=True):
            rates.annotate(f"{row['rate']:,.0f}", (x, row["rate"]), ha="center", fontsize=7.5)
        rates.axhline(3000, color="#333333", linewidth=1, linestyle="-.")
        rates.text(-0.4, 3000, " target: 3,000 req/s", fontsize=8, va="bottom")
        rates.set_ylabel("requests per second")
        rates.set_title(
            "Requests answered per second (closed loop: as fast as answers come; "
            "or at the offered rate)"
        )
        latency.bar(
            [x - 0.2 for x in positions],
            [r["p50_ms"] or 0.001 for r in redirect],
            width=0.4,
            color=colors,
            alpha=0.5,
            label="p50",
        )
        latency.bar(
            [x + 0.2 for x in positions],
            [r["p99_ms"] or 0.001 for r in redirect],
            width=0.4,
            color=colors,
            label="p99",
        )
        latency.axhline(20, color="#333333", linewidth=1, linestyle="-.")
        latency.text(-0.4, 20, " target: p99 20 ms", fontsize=8, va="bottom")
        latency.set_yscale("log")
        latency.set_ylabel("milliseconds, log scale")
        latency.set_title("Latency, p50 (light) and p99 (dark)")
        for ax in (rates, latency):
            ax.set_xticks(list(positions), [_label(r) for r in redirect], fontsize=7)
            ax.grid(alpha=0.3, axis="y", which="both")
    if ingest:
        positions = range(len(ingest))
        names = [
            f"{r['backend']}\n{'ingest_clicks' if r['layer'] == 'service' else 'raw INSERT'}"
            f"\nbatch {r['batch']:,}"
            for r in ingest
        ]
        ingestion.bar(
            positions,
            [r["rate"] for r in ingest],
            color=[
                to_rgba(
                    COLORS.get(r["backend"], "#777777"), 1.0 if r["layer"] == "service" else 0.4
                )
                for r in ingest
            ],
        )
        for x, row in zip(positions, ingest, strict=True):
            ingestion.annotate(f"{row['rate']:,.0f}", (x, row["rate"]), ha="center", fontsize=7.5)
        ingestion.axhline(20_000, color="#333333", linewidth=1, linestyle="-.")
        ingestion.text(-0.4, 20_000, " target: 20,000 events/s", fontsize=8, va="bottom")
        ingestion.set_xticks(list(positions), names, fontsize=7)
        ingestion.set_ylabel("click events per second")
        ingestion.set_title("Click ingestion in batches (light: the raw INSERT floor)")
        ingestion.grid(alpha=0.3, axis="y")
    else:
        ingestion.set_axis_off()
    machine = report["machine"]
    settings = report["settings"]
    fig.suptitle(
        f"Pappus analytics: the tracking redirect ({settings['connections']} keep-alive "
        f"connections, {settings['duration']:g} s per cell) and click ingestion",
        fontsize=13,
        fontweight="bold",
    )
    fig.text(
        0.5,
        0.01,
        f"{machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}; "
        "the load generator, the server and the database share the CPUs.",
        ha="center",
        fontsize=8.5,
        color="#444444",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 0.96))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
