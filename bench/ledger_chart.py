"""The PNG chart of bench/ledger.py: escrow operations per second and p99 latency against the
number of clients, per backend and layer, with the issue's targets (matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import say

COLORS = {"sqlite": "#4C72B0", "postgresql": "#DD8452"}
STYLES = {"floor": ":", "service": "-", "hello": "-.", "http": "--"}
MARKERS = {"floor": "s", "service": "o", "hello": "x", "http": "^"}
NAMES = {
    "floor": "raw SQL floor",
    "service": "service layer",
    "hello": "HTTP floor (hello-world GET)",
    "http": "HTTP (accept + cancel)",
}


def draw_chart(report: dict[str, Any], path: Path) -> bool:
    """ops/s (log) and p99 ms (log) against clients, one line per backend and layer."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("  (no chart: pip install matplotlib to draw one)")
        return False
    mixes = [r for r in report["results"] if r["mix"]]
    if not mixes:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6.6))
    for backend in report["settings"]["backends"]:
        for layer in ("floor", "service", "hello", "http"):
            line = sorted(
                (r for r in mixes if r["backend"] == backend and r["layer"] == layer),
                key=lambda r: r["clients"],
            )
            if not line:
                continue
            style = {
                "color": COLORS.get(backend, "#777777"),
                "linestyle": STYLES[layer],
                "marker": MARKERS[layer],
                "label": f"{backend}, {NAMES[layer]}",
            }
            clients = [r["clients"] for r in line]
            left.plot(clients, [max(r["rate"], 0.1) for r in line], **style)
            for r in line:
                left.annotate(
                    f"{r['rate']:,.0f}",
                    (r["clients"], max(r["rate"], 0.1)),
                    fontsize=7.5,
                    textcoords="offset points",
                    xytext=(4, 3),
                )
            right.plot(clients, [r["p99_ms"] or 0.001 for r in line], **style)
    left.axhline(1000, color="#333333", linewidth=1, linestyle="-.")
    left.text(1, 1000, " target: service layer, PostgreSQL, 8 clients", fontsize=8, va="bottom")
    left.axhline(300, color="#888888", linewidth=1, linestyle="-.")
    left.text(1, 300, " target: HTTP, 8 clients", fontsize=8, va="bottom")
    right.axhline(200, color="#888888", linewidth=1, linestyle="-.")
    right.text(1, 200, " target: HTTP p99", fontsize=8, va="bottom")
    for ax, title, label in (
        (left, "Throughput (higher is better)", "escrow operations per second, log scale"),
        (right, "p99 latency of one operation (lower is better)", "milliseconds, log scale"),
    ):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(
            report["settings"]["clients"], [str(c) for c in report["settings"]["clients"]]
        )
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.grid(alpha=0.3, which="both")
    handles, labels = left.get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=3, fontsize=8.5, bbox_to_anchor=(0.5, 0.04)
    )
    machine = report["machine"]
    fig.suptitle(
        "Pappus ledger: escrow operations (hold, release with 3 legs, refund), "
        f"{report['settings']['duration']:g} s per cell",
        fontsize=13,
        fontweight="bold",
    )
    fig.text(
        0.5,
        0.01,
        f"{machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}; the "
        "clients, the service layer and the database share the CPUs.",
        ha="center",
        fontsize=8.5,
        color="#444444",
    )
    fig.tight_layout(rect=(0, 0.14, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
