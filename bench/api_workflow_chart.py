"""The PNG chart of bench/api_workflow.py: requests/s per scenario and backend against the
hello-world floor, and p50/p99 latency beside it (matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import fmt_ms, say

# -- chart ----------------------------------------------------------------------------------

THROUGHPUT_SCENARIOS = (
    ("GET /orders/{id}", "GET /orders/{id}"),
    ("GET /orders?limit=20", "GET /orders?limit=20"),
    ("workflow: 4 writes", "workflow writes\n(4 per workflow)"),
    ("POST /auth/token (argon2)", "POST /auth/token\n(argon2 login)"),
)
LATENCY_SCENARIOS = (
    *THROUGHPUT_SCENARIOS[:2],
    ("workflow: 4 writes", "one workflow\n(4 writes in a row)"),
    THROUGHPUT_SCENARIOS[3],
    ("  PATCH /creators/me, alone", "a small write,\nalone"),
    ("  same, beside the logins", "the same write,\nbeside the logins"),
)
COLORS = {"sqlite": "#4C72B0", "postgresql": "#DD8452"}


def draw_chart(report: dict[str, Any], path: Path) -> bool:
    """Requests/s per scenario and backend against the hello-world floor; p50/p99 beside."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("  (no chart: pip install matplotlib to draw one)")
        return False
    rows = report["results"]
    backends = [b for b in report["settings"]["backends"] if any(r["backend"] == b for r in rows)]
    hello = next((r for r in rows if r["backend"] == "-"), None)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 6.2), gridspec_kw={"width_ratios": [1.35, 1]}
    )
    _throughput_panel(left, rows, backends, hello)
    _latency_panel(right, rows, backends)
    machine = report["machine"]
    raw = ", ".join(
        f"{r['backend']} {r['rate']:,.0f}/s"
        for r in rows
        if r["unit"] == "calls/s" and r["backend"] in backends
    )
    fig.suptitle(
        "Pappus API throughput vs the hello-world floor "
        f"({report['settings']['concurrency']} concurrent clients, "
        f"{report['settings']['duration']:g} s per scenario)",
        fontsize=13,
        fontweight="bold",
    )
    fig.text(
        0.5,
        0.01,
        f"{machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}; "
        f"load generator and server share the CPUs.  Raw SQL floor (one PK select, no HTTP): "
        f"{raw}",
        ha="center",
        fontsize=8.5,
        color="#444444",
    )
    fig.tight_layout(rect=(0, 0.035, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _rows_by_scenario(
    rows: list[dict[str, Any]], backends: list[str], wanted: tuple[tuple[str, str], ...]
) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    found = []
    for key, label in wanted:
        per_backend = {r["backend"]: r for r in rows if r["scenario"] == key}
        if any(b in per_backend for b in backends):
            found.append((label, per_backend))
    return found


def _throughput_panel(
    ax: Any, rows: list[dict[str, Any]], backends: list[str], hello: dict[str, Any] | None
) -> None:
    from matplotlib.patches import Patch

    scenarios = _rows_by_scenario(rows, backends, THROUGHPUT_SCENARIOS)
    height = 0.8 / max(1, len(backends))
    peak = max(hello["rate"] if hello else 0.0, 1.0)
    for index, (_, per_backend) in enumerate(scenarios):
        for slot, backend in enumerate(backends):
            row = per_backend.get(backend)
            if row is None:
                continue
            rate = row.get("writes_per_s", row["rate"])
            peak = max(peak, rate)
            y = index + (slot - (len(backends) - 1) / 2) * height
            ax.barh(y, rate, height * 0.92, color=COLORS.get(backend, "#777777"))
            note = f" {rate:,.0f} req/s" if rate >= 10 else f" {rate:,.1f} req/s"
            if row["unit"] == "wf/s":
                note += f" = {row['rate']:,.1f} workflows/s"
            if row.get("vs_hello") is not None:
                note += f"  ({row['vs_hello']:.2f}x floor)"
            if row["server_errors_5xx"]:
                note += f"  {row['server_errors_5xx']} x 5xx!"
            ax.text(rate, y, note, va="center", fontsize=8.5)
    if hello:
        ax.axvline(hello["rate"], color="#333333", linestyle="--", linewidth=1.2)
        ax.text(
            hello["rate"],
            0.99,
            f" hello-world floor\n {hello['rate']:,.0f} req/s",
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=8.5,
        )
    ax.set_yticks(range(len(scenarios)), [label for label, _ in scenarios])
    ax.invert_yaxis()
    ax.set_xlim(0, peak * 1.55)
    ax.set_xlabel("requests per second (higher is better)")
    ax.set_title("Throughput")
    handles = [Patch(color=COLORS.get(b, "#777777"), label=b) for b in backends]
    ax.legend(handles=handles, loc="lower right")
    ax.grid(axis="x", alpha=0.3)


def _latency_panel(ax: Any, rows: list[dict[str, Any]], backends: list[str]) -> None:
    scenarios = _rows_by_scenario(rows, backends, LATENCY_SCENARIOS)
    height = 0.8 / max(1, len(backends))
    for index, (_, per_backend) in enumerate(scenarios):
        for slot, backend in enumerate(backends):
            row = per_backend.get(backend)
            if row is None or row["p50_ms"] is None:
                continue
            y = index + (slot - (len(backends) - 1) / 2) * height
            color = COLORS.get(backend, "#777777")
            ax.barh(y, row["p99_ms"], height * 0.92, color=color, alpha=0.35)
            ax.barh(y, row["p50_ms"], height * 0.92, color=color)
            ax.text(
                row["p99_ms"],
                y,
                f" p50 {fmt_ms(row['p50_ms'])} / p99 {fmt_ms(row['p99_ms'])} ms"
                + (f" (only {row['ok']} calls)" if row["ok"] < 20 else ""),
                va="center",
                fontsize=8.5,
            )
    ax.set_xscale("log")
    ax.set_yticks(range(len(scenarios)), [label for label, _ in scenarios])
    ax.invert_yaxis()
    low, high = ax.get_xlim()
    ax.set_xlim(low, high * 40)
    ax.set_xlabel("milliseconds, log scale (lower is better)")
    ax.set_title("Latency: p50 (dark) and p99 (light)")
    ax.grid(axis="x", alpha=0.3, which="both")
