"""Training and evaluating the Chinese comment-sentiment model (`python -m pappus.sentiment.train`).

Data: the two ChnSentiCorp-derived CSVs of ../shared/data/sentiment-zh (hotel reviews, and
online-shopping reviews of ten categories; binary labels). Texts are trimmed (whitespace and
U+FEFF) and de-duplicated across and within both files before any split; a text seen with
both labels is dropped. The hotel CSV and the shopping file's 酒店 category form one domain,
"酒店" (hotels).

Model: hashed character 1-3-grams of the normal form (features.py), sublinear term frequency
(1 + ln tf), L2-normalised rows, and an L2-regularised logistic regression (scikit-learn's
liblinear solver, deterministic). Only the weights are exported (model.npz, float32) with a
card of figures (model_card.json); inference needs numpy alone.

Evaluations, each by a model that never saw the texts it is scored on:
- in_domain: a stratified random 90/10 split of all de-duplicated texts (seed 2026); the
  shipped model is exactly the one trained on that 90 %.
- out_of_domain_hotels: trained on the nine other categories, scored on every hotel text.
- leave_one_category_out: for each of the ten domains, trained on the other nine.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pappus.sentiment.features import BITS, NGRAM_MAX, NGRAM_MIN, Float, Int, normalise
from pappus.sentiment.model import CARD_FILE, MODEL_FILE, MODEL_VERSION, ZhModel

HOTEL_FILE = "ChnSentiCorp_htl_all.csv"
SHOPPING_FILE = "online_shopping_10_cats.csv"
HOTELS = "酒店"
C = 4.0
TEST_SHARE = 0.1
SEED = 2026

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Corpus:
    """De-duplicated texts (raw, trimmed), their normal forms, labels (1 positive) and domains."""

    texts: list[str]
    normalised: list[str]
    labels: Int
    domains: list[str]
    stats: dict[str, Any]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, strict=True))


def _trim(text: str) -> str:
    return text.replace("\ufeff", "").strip()


def load_corpus(data_dir: Path) -> Corpus:
    """Both files, trimmed and de-duplicated across and within them; conflicting texts dropped."""
    hotel_rows = _read(data_dir / HOTEL_FILE)
    shopping_rows = _read(data_dir / SHOPPING_FILE)
    labels: dict[str, set[int]] = defaultdict(set)
    domains: dict[str, set[str]] = defaultdict(set)
    empty = 0
    for rows, fixed in ((hotel_rows, HOTELS), (shopping_rows, None)):
        for row in rows:
            text = _trim(row["review"])
            if not text:
                empty += 1
                continue
            labels[text].add(int(row["label"]))
            domains[text].add(fixed or row["cat"])
    conflicting = [t for t, found in labels.items() if len(found) > 1]
    kept = [t for t, found in labels.items() if len(found) == 1]
    # A text in the hotel domain and elsewhere counts as a hotel text, so that the hotel
    # evaluation never meets a text the model was trained on.
    text_domains = [HOTELS if HOTELS in domains[t] else min(domains[t]) for t in kept]
    y = np.array([next(iter(labels[t])) for t in kept], dtype=np.int64)
    stats = {
        "rows": {HOTEL_FILE: len(hotel_rows), SHOPPING_FILE: len(shopping_rows)},
        "empty_reviews_dropped": empty,
        "distinct_texts": len(labels),
        "conflicting_texts_dropped": len(conflicting),
        "texts": len(kept),
        "positive": int(y.sum()),
        "negative": int(len(y) - y.sum()),
        "by_domain": dict(sorted(Counter(text_domains).items(), key=lambda kv: -kv[1])),
    }
    return Corpus(kept, [normalise(t) for t in kept], y, text_domains, stats)


def stratified_split(labels: Int, share: float, seed: int) -> tuple[Int, Int]:
    """Indices of a train and a test part, each label split in the same proportion."""
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for label in (0, 1):
        chosen = np.flatnonzero(labels == label)
        rng.shuffle(chosen)
        n_test = round(len(chosen) * share)
        test_parts.append(chosen[:n_test])
        train_parts.append(chosen[n_test:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(test_parts))


def _matrix(normalised: Sequence[str]) -> Any:
    sp = importlib.import_module("scipy.sparse")  # scipy comes with scikit-learn; no stubs

    from pappus.sentiment.features import hash_ngrams, tf_weights

    hashed = hash_ngrams(normalised, BITS)
    values = tf_weights(hashed)
    return sp.csr_matrix(
        (values, (hashed.docs, hashed.buckets)), shape=(len(normalised), 1 << BITS)
    )


def fit(matrix: Any, labels: Int) -> ZhModel:
    """A logistic regression on the weighted hashed n-grams, as numpy weights."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, solver="liblinear", max_iter=1000)
    model.fit(matrix, labels)
    return ZhModel(
        weights=np.asarray(model.coef_[0], dtype=np.float32),
        intercept=float(model.intercept_[0]),
    )


def metrics(labels: Int, scores: Float) -> dict[str, Any]:
    """Accuracy and macro F1 at 0.5, and how many fall in the neutral band."""
    from pappus.sentiment.model import NEUTRAL_HALF_WIDTH

    predicted = (scores >= 0.5).astype(np.int64)
    f1s = []
    for label in (0, 1):
        tp = int(((predicted == label) & (labels == label)).sum())
        fp = int(((predicted == label) & (labels != label)).sum())
        fn = int(((predicted != label) & (labels == label)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    neutral = np.abs(scores - 0.5) < NEUTRAL_HALF_WIDTH
    decided = ~neutral
    return {
        "accuracy": round(float((predicted == labels).mean()), 4),
        "macro_f1": round(sum(f1s) / 2, 4),
        "n": len(labels),
        "positive": int(labels.sum()),
        "neutral_share": round(float(neutral.mean()), 4),
        "accuracy_outside_neutral": (
            round(float((predicted[decided] == labels[decided]).mean()), 4)
            if decided.any()
            else None
        ),
    }


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def _evaluate(
    matrix: Any, labels: Int, train_idx: Int, test_idx: Int
) -> tuple[ZhModel, dict[str, Any]]:
    model = fit(matrix[train_idx], labels[train_idx])
    scores = model.probabilities_of_matrix(matrix[test_idx])
    return model, {**metrics(labels[test_idx], scores), "trained_on": len(train_idx)}


def train(
    data_dir: Path, out_dir: Path, seed: int = SEED, progress: Progress | None = None
) -> dict[str, Any]:
    """Fit, evaluate and write model.npz and model_card.json to out_dir; the card's dict."""
    started = time.monotonic()
    _say(progress, f"reading and de-duplicating {data_dir}")
    corpus = load_corpus(data_dir)
    _say(progress, f"{corpus.stats['texts']:,} distinct texts; hashing n-grams")
    matrix = _matrix(corpus.normalised)
    labels = corpus.labels
    domains = np.array(corpus.domains)
    train_idx, test_idx = stratified_split(labels, TEST_SHARE, seed)
    _say(progress, f"in-domain: training on {len(train_idx):,}, testing on {len(test_idx):,}")
    shipped, in_domain = _evaluate(matrix, labels, train_idx, test_idx)
    loco: dict[str, dict[str, Any]] = {}
    names = sorted(set(corpus.domains), key=lambda d: (d != HOTELS, d))
    for i, domain in enumerate(names, start=1):
        held = np.flatnonzero(domains == domain)
        rest = np.flatnonzero(domains != domain)
        _say(progress, f"leave-one-category-out {i}/{len(names)}: {domain} ({len(held):,} texts)")
        _, loco[domain] = _evaluate(matrix, labels, rest, held)
    accuracies = [m["accuracy"] for m in loco.values()]
    worst = min(loco, key=lambda d: loco[d]["accuracy"])
    card: dict[str, Any] = {
        "model": MODEL_VERSION,
        "trained_at": datetime.now(UTC).date().isoformat(),
        "seed": seed,
        "features": {
            "ngrams": [NGRAM_MIN, NGRAM_MAX],
            "hash_bits": BITS,
            "weighting": "1 + ln(tf), rows L2-normalised",
            "normal_form": "NFKC, casefold, OpenCC t2s, URLs/mentions/hashtags removed, runs <= 3",
        },
        "classifier": {"kind": "logistic regression (liblinear, L2)", "C": C},
        "training_data": {
            "source": "ChnSentiCorp_htl_all.csv + online_shopping_10_cats.csv "
            "(SophonPlus/ChineseNlpCorpus); licence unknown, training/validation only",
            **corpus.stats,
        },
        "split": {
            "kind": "stratified random, all domains",
            "test_share": TEST_SHARE,
            "seed": seed,
            "train": len(train_idx),
            "test": len(test_idx),
        },
        "shipped_model": "trained on the in-domain train split (90 %); it never saw the "
        "in-domain test split. The out-of-domain and leave-one-out figures are from models of "
        "the same recipe trained without the held-out domain.",
        "in_domain": in_domain,
        "out_of_domain_hotels": loco[HOTELS],
        "leave_one_category_out": {
            "mean_accuracy": round(float(np.mean(accuracies)), 4),
            "min_accuracy": min(accuracies),
            "min_domain": worst,
            "mean_macro_f1": round(float(np.mean([m["macro_f1"] for m in loco.values()])), 4),
            "by_domain": loco,
        },
        "seconds": round(time.monotonic() - started, 1),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    shipped.save(out_dir / MODEL_FILE)
    (out_dir / CARD_FILE).write_text(
        json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    _say(progress, f"wrote {out_dir / MODEL_FILE} and {out_dir / CARD_FILE}")
    return card


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pappus.sentiment.train",
        description="Train the Chinese comment-sentiment model and write model.npz and "
        "model_card.json.",
        epilog="example: python -m pappus.sentiment.train --data ../shared/data/sentiment-zh "
        "--out src/pappus/sentiment/",
    )
    parser.add_argument("--data", type=Path, required=True, help="folder of the two CSVs")
    parser.add_argument("--out", type=Path, required=True, help="where to write the model")
    parser.add_argument("--seed", type=int, default=SEED, help=f"split seed (default {SEED})")
    args = parser.parse_args(argv)
    for name in (HOTEL_FILE, SHOPPING_FILE):
        if not (args.data / name).is_file():
            parser.error(f"{args.data / name} not found")
    started = time.monotonic()

    def progress(message: str) -> None:
        sys.stderr.write(f"[{time.monotonic() - started:6.1f} s] {message}\n")
        sys.stderr.flush()

    card = train(args.data, args.out, args.seed, progress)
    loco = card["leave_one_category_out"]
    print(
        f"in-domain accuracy {card['in_domain']['accuracy']:.4f} "
        f"(macro F1 {card['in_domain']['macro_f1']:.4f}, n {card['in_domain']['n']:,}); "
        f"hotels held out {card['out_of_domain_hotels']['accuracy']:.4f} "
        f"(n {card['out_of_domain_hotels']['n']:,}); leave-one-category-out mean "
        f"{loco['mean_accuracy']:.4f}, min {loco['min_accuracy']:.4f} ({loco['min_domain']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
