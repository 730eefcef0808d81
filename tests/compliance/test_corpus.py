"""The shipped packs against two corpora: violations.jsonl (each line names the rules it must
trip) and ordinary compliant posts written without looking at the rules
(compliant_posts.jsonl, used to tune the exceptions, so it must stay clean;
compliant_posts_heldout.jsonl, never used for tuning: its false-positive rate is measured by
bench/compliance.py and only bounded here)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import opencc
import pytest

from pappus.compliance.checker import Post, RuleEngine
from pappus.compliance.packs import shipped_packs

CORPUS = Path(__file__).parent / "corpus"
DAY = date(2026, 11, 30)
ENGINE = RuleEngine(shipped_packs())
S2T = opencc.OpenCC("s2t")


def _lines(name: str) -> list[dict[str, Any]]:
    path = CORPUS / name
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _post(row: dict[str, Any], text: str | None = None) -> Post:
    return Post(
        text=row["text"] if text is None else text,
        title=row.get("title", ""),
        hashtags=tuple(row.get("hashtags", [])),
        platform=row.get("platform"),
        category=row.get("category"),
        sponsored=row.get("sponsored", True),
    )


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c != "#" else c for c in text)


VIOLATIONS = _lines("violations.jsonl")


@pytest.mark.parametrize("row", VIOLATIONS, ids=[r["id"] for r in VIOLATIONS])
def test_every_violation_trips_its_rules_in_every_variant(row: dict[str, Any]) -> None:
    variants = [row["text"]]
    if any("\u4e00" <= c <= "\u9fff" for c in row["text"]):
        variants += [S2T.convert(row["text"]), _full_width(row["text"])]
    for text in variants:
        found = ENGINE.check(_post(row, text), DAY).findings
        assert set(row["expect"]) <= {f.rule_id for f in found}, (text, found)
        for finding in found:
            assert text[finding.start : finding.end] == finding.match


def test_the_tuning_corpus_of_ordinary_posts_has_no_finding() -> None:
    rows = _lines("compliant_posts.jsonl")
    assert len(rows) == 200
    flagged = {
        row["id"]: [(f.rule_id, f.match) for f in ENGINE.check(_post(row), DAY).findings]
        for row in rows
    }
    assert {k: v for k, v in flagged.items() if v} == {}


def test_the_held_out_corpus_stays_under_five_percent_blocked() -> None:
    path = CORPUS / "compliant_posts_heldout.jsonl"
    if not path.exists():
        pytest.skip("held-out corpus not present")
    rows = _lines(path.name)
    blocked = [r["id"] for r in rows if ENGINE.check(_post(r), DAY).blocking]
    assert len(blocked) <= 0.05 * len(rows), blocked
