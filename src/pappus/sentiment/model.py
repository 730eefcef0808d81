"""Comment sentiment for Chinese and English: `classify` and `classify_many`.

Chinese (and any text with CJK characters) is scored by a logistic regression on hashed
character 1-3-grams (features.py), trained on shop and hotel reviews (train.py) and shipped as
numpy weights (model.npz, with model_card.json). Latin-script text is scored by VADER's lexicon
(the `vaderSentiment` package, whose lexicon ships in its wheel), its compound score c mapped to
a probability by p = (1 + c) / 2, clipped to [0.02, 0.98]. Text with both scripts mixes the two
log-odds by the share of CJK among its letters (the Chinese model alone when VADER finds no
English sentiment word). Emoji, Weibo [表情] and slang (lexicon.py) then add fixed log-odds.

`score` is the probability that the comment is positive. The label is "neutral" when the score
is within NEUTRAL_HALF_WIDTH of 0.5. A comment with no sentiment signal gets exactly 0.5:
empty, or nothing but mentions, URLs, hashtags, digits, punctuation or unknown emoji. A request
for information ("求链接", "链接在哪", "what brand?") has its base log-odds multiplied by
REQUEST_DAMPING, any other question ("好用吗?") by QUESTION_DAMPING, so that only a clear
opinion in it survives. See docs/sentiment.md.

The model loads once per process, on first use, under a lock; classifying is thread-safe.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pappus.sentiment.features import BITS, Float, hash_ngrams, normalise, tf_weights
from pappus.sentiment.lexicon import TERMS

MODEL_FILE = "model.npz"
CARD_FILE = "model_card.json"
MODEL_VERSION = "zh-char1-3-hash18-logreg-1"
NEUTRAL_HALF_WIDTH = 0.1  # scores in (0.4, 0.6) are neutral
QUESTION_DAMPING = 0.35
REQUEST_DAMPING = 0.1
ENGLISH_CLIP = 0.02
_BATCH = 4096

Label = Literal["positive", "neutral", "negative"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-z]")
_LETTER = re.compile(r"[^\W\d_]")
_QUESTION = re.compile(
    r"[?]\W*$|[吗呢么嘛]\W*$|^(?:where|what|which|how|who|when|is|are|does|do|can)\b"
)
_REQUEST = re.compile(
    r"求链接|求链|链接|在哪|哪里买|哪儿买|哪买|什么牌子|哪个牌子|多少钱|色号|怎么买|求推荐|求问|"
    r"\b(?:link|where (?:is|are|did|can)|what brand|how much)\b"
)


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """A comment's label and the probability (0..1) that it is positive."""

    label: Label
    score: float


@dataclass(frozen=True)
class ZhModel:
    """Logistic-regression weights over the hashed n-gram buckets."""

    weights: np.ndarray[Any, np.dtype[np.float32]]
    intercept: float

    def logits(self, normalised: Sequence[str]) -> Float:
        """Log-odds of being positive for texts already in the normal form."""
        hashed = hash_ngrams(normalised, BITS)
        contributions = tf_weights(hashed) * self.weights[hashed.buckets]
        sums = np.bincount(hashed.docs, contributions, minlength=hashed.n_docs)
        return np.asarray(sums + self.intercept, dtype=np.float64)

    def probabilities_of_matrix(self, matrix: Any) -> Float:
        """Probabilities for a row-normalised sparse feature matrix (training only)."""
        logits = np.asarray(matrix @ self.weights.astype(np.float64), dtype=np.float64)
        probabilities: Float = 1.0 / (1.0 + np.exp(-(logits + self.intercept)))
        return probabilities

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            intercept=np.array([self.intercept], dtype=np.float64),
            bits=np.array([BITS], dtype=np.int64),
        )

    @classmethod
    def load(cls, source: Any) -> ZhModel:
        with np.load(source) as data:
            if int(data["bits"][0]) != BITS:
                raise ValueError(f"model hashed to 2**{int(data['bits'][0])}, code to 2**{BITS}")
            return cls(weights=data["weights"].copy(), intercept=float(data["intercept"][0]))


_LOCK = threading.Lock()


@cache
def _load_shipped() -> ZhModel:
    with resources.files(__package__).joinpath(MODEL_FILE).open("rb") as handle:
        return ZhModel.load(handle)


def shipped_model() -> ZhModel:
    """The shipped Chinese model, loaded once per process (the lock keeps two threads from
    both loading it on first use)."""
    with _LOCK:
        return _load_shipped()


@cache
def evaluate_report() -> dict[str, Any]:
    """The shipped model's card: training data, split, accuracies, date and version."""
    text = resources.files(__package__).joinpath(CARD_FILE).read_text(encoding="utf-8")
    card: dict[str, Any] = json.loads(text)
    return card


@cache
def _lexicon() -> tuple[re.Pattern[str], dict[str, float]]:
    values: dict[str, float] = {}
    for term, value in TERMS.items():
        values[normalise(term)] = value
    parts = []
    for term in sorted(values, key=len, reverse=True):
        escaped = re.escape(term)
        parts.append(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if term.isascii() else escaped)
    return re.compile("|".join(parts)), values


@cache
def _vader() -> Any:
    """VADER's analyser, or None when the vaderSentiment package is not installed."""
    try:
        # Imported by name: the package has no type information, and is optional here.
        vader = importlib.import_module("vaderSentiment.vaderSentiment")
    except ImportError:
        return None
    return vader.SentimentIntensityAnalyzer()


def english_available() -> bool:
    """Whether Latin-script text is scored by VADER (else by the Chinese model)."""
    return _vader() is not None


def _logit(p: float) -> float:
    p = min(max(p, ENGLISH_CLIP), 1.0 - ENGLISH_CLIP)
    return math.log(p / (1.0 - p))


def _label(score: float) -> Label:
    if score >= 0.5 + NEUTRAL_HALF_WIDTH:
        return "positive"
    if score <= 0.5 - NEUTRAL_HALF_WIDTH:
        return "negative"
    return "neutral"


def _combine(
    text: str, zh_logit: float, pattern: re.Pattern[str], values: dict[str, float]
) -> float:
    """The final log-odds of one normalised text, given the Chinese model's."""
    hits = set(pattern.findall(text))
    lexical = sum(values[h] for h in hits)
    rest = pattern.sub(" ", text) if hits else text
    if not _LETTER.search(rest):
        return lexical  # emoji, digits, punctuation: only the lexicon speaks
    cjk = len(_CJK.findall(rest))
    latin = len(_LATIN.findall(rest))
    base = zh_logit
    vader = _vader() if latin else None
    if vader is not None:
        compound = float(vader.polarity_scores(rest)["compound"])
        english = _logit((1.0 + compound) / 2.0)
        if not cjk:
            base = english
        elif compound:
            share = cjk / (cjk + latin)
            base = share * zh_logit + (1.0 - share) * english
    stripped = rest.strip()
    if _REQUEST.search(stripped):
        base *= REQUEST_DAMPING
    elif _QUESTION.search(stripped):
        base *= QUESTION_DAMPING
    return base + lexical


def classify_many(texts: Sequence[str]) -> list[SentimentResult]:
    """Sentiment of each text, in order; vectorised over the batch."""
    if isinstance(texts, str):
        raise TypeError("classify_many takes a sequence of str; use classify for one text")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
    model = shipped_model()
    pattern, values = _lexicon()
    results: list[SentimentResult] = []
    for start in range(0, len(texts), _BATCH):
        normalised = [normalise(t) for t in texts[start : start + _BATCH]]
        zh = model.logits(normalised)
        for text, zh_logit in zip(normalised, zh.tolist(), strict=True):
            logit = _combine(text, zh_logit, pattern, values)
            score = 1.0 / (1.0 + math.exp(-logit))
            results.append(SentimentResult(label=_label(score), score=score))
    return results


def classify(text: str) -> SentimentResult:
    """Sentiment of one comment."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    return classify_many([text])[0]
