"""The PNG chart of bench/compliance.py: the latency distribution of each cell and floor, and
their p50/p95/p99 against the 5 ms target (matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import say

COLORS = {
    "all_packs": "#C44E52",
    "every_rule": "#8172B2",
    "xiaohongshu": "#DD8452",
    "instagram": "#4C72B0",
    "normalise": "#55A868",
    "automaton": "#777777",
}
TARGET_MS = 5.0


def draw_chart(report: dict[str, Any], path: Path) -> bool:
    """Left: latency against percentile (log x) per row, with the target. Right: p50, p95
    and p99 per row as bars (log x)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("  (no chart: pip install matplotlib to draw one)")
        return False
    rows = report["results"]
    if not rows:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.6), gridspec_kw={"width_ratios": [3, 2]})
    for r in rows:
        values = [v for v in r["percentiles_ms"] if v is not None]
        if not values:
            continue
        style = "-" if r["kind"] == "cell" else ":"
        left.plot(
            values,
            range(len(values)),
            style,
            color=COLORS.get(r["key"], "#333333"),
            label=r["label"],
            lw=1.6,
        )
    left.axvline(TARGET_MS, color="black", linestyle="--", lw=1.2)
    left.axhline(95, color="#999999", linestyle="-.", lw=0.8)
    left.annotate(
        f"target: p95 < {TARGET_MS:g} ms",
        (TARGET_MS, 50),
        fontsize=8.5,
        xytext=(-4, 0),
        textcoords="offset points",
        ha="right",
    )
    left.set_xscale("log")
    left.set_ylim(0, 100)
    left.set_xlabel("milliseconds per call, log scale")
    left.set_ylabel("percentile of calls")
    left.set_title("Latency distribution (left is faster)")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=8, loc="upper left")
    names = [r["label"] for r in rows][::-1]
    ordered = rows[::-1]
    height = 0.26
    for offset, (key, shade) in enumerate((("p50_ms", 1.0), ("p95_ms", 0.7), ("p99_ms", 0.45))):
        ys = [i + (1 - offset) * height for i in range(len(ordered))]
        bars = right.barh(
            ys,
            [r[key] or 0 for r in ordered],
            height,
            color=[COLORS.get(r["key"], "#333333") for r in ordered],
            alpha=shade,
            label=key.replace("_ms", ""),
        )
        for bar, r in zip(bars, ordered, strict=True):
            right.annotate(
                f"{r[key]:.3g}",
                (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                fontsize=7,
                va="center",
                xytext=(2, 0),
                textcoords="offset points",
            )
    right.axvline(TARGET_MS, color="black", linestyle="--", lw=1.2)
    right.annotate(
        "target",
        (TARGET_MS, len(ordered) - 0.5),
        fontsize=8,
        ha="right",
        xytext=(-3, 0),
        textcoords="offset points",
    )
    right.set_xscale("log")
    right.set_yticks(range(len(names)), names, fontsize=8)
    right.set_xlabel("milliseconds, log scale")
    right.set_title("p50, p95, p99 (dark to light)")
    right.grid(alpha=0.3, axis="x", which="both")
    settings, machine = report["settings"], report["machine"]
    fig.suptitle(
        f"Pappus compliance checker: {settings['drafts']:,} drafts of {settings['chars']:,} "
        f"characters x {settings['repeat']} round(s), one thread",
        fontsize=12,
        fontweight="bold",
    )
    fig.text(
        0.5,
        0.01,
        f"{machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}; "
        "floors are the draft's text alone, cells check title, text and hashtags.",
        ha="center",
        fontsize=8,
        color="#444444",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.94))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
