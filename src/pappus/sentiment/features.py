"""Text normalisation and hashed character n-grams, shared by training and inference.

Every text is brought to one normal form (NFKC, case folding, traditional to simplified Chinese
with OpenCC's t2s tables, runs of one character cut to three, URLs/mentions/hashtags removed)
and cut into character n-grams of 1 to 3 characters, with a start and an end marker so that
"绝了" at the start of a comment is its own feature. Each n-gram is hashed with a fixed integer
hash (an exact base-0x110000 number of its code points, scrambled by MurmurHash3's 64-bit
finaliser) into one of 2**bits buckets. The hash uses numpy only and is the same on every
platform and version, so the shipped weights need no vocabulary and contain no text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import opencc

Int = np.ndarray[Any, np.dtype[np.int64]]
UInt = np.ndarray[Any, np.dtype[np.uint64]]
Float = np.ndarray[Any, np.dtype[np.float64]]

BITS = 18  # 262,144 buckets: 1 MB of float32 weights
NGRAM_MIN = 1
NGRAM_MAX = 3
START, END = 0x02, 0x03  # markers around each text; never a unigram of their own
_BASE = np.uint64(0x110000)  # one more than the largest code point: n-grams up to 3 are exact
_MURMUR_1 = np.uint64(0xFF51AFD7ED558CCD)
_MURMUR_2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
MAX_CHARS = 20_000  # longer texts are cut: the first 20,000 characters decide

_URL = re.compile(r"(?:https?://|www\.)\S+")
_MENTION = re.compile(r"@[\w\-.·]+")
_HASHTAG = re.compile(r"#[^#\s]{1,40}#|#\w+")
_RUN = re.compile(r"(.)\1{3,}", re.DOTALL)
_SPACE = re.compile(r"\s+")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """The normal form the model reads: the same at training and at inference."""
    text = text[:MAX_CHARS].replace("\ufeff", "")
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _HASHTAG.sub(" ", text)
    text = _RUN.sub(r"\1\1\1", text)
    text = _SPACE.sub(" ", text).strip()
    if not text.isascii():
        text = _t2s().convert(text)
    return text


@dataclass(frozen=True)
class Hashed:
    """The n-grams of a batch of texts as (document, bucket, count) triples, sorted."""

    docs: Int
    buckets: Int
    counts: Float
    n_docs: int


def _finalise(x: UInt) -> UInt:
    x = x ^ (x >> _SHIFT)
    x = x * _MURMUR_1
    x = x ^ (x >> _SHIFT)
    x = x * _MURMUR_2
    return x ^ (x >> _SHIFT)


def hash_ngrams(normalised: Sequence[str], bits: int) -> Hashed:
    """Hashed character n-grams (NGRAM_MIN..NGRAM_MAX) of already normalised texts."""
    n_docs = len(normalised)
    if n_docs == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Hashed(empty, empty, np.zeros(0, dtype=np.float64), 0)
    joined = "".join(f"{chr(START)}{t}{chr(END)}" for t in normalised)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(t) + 2 for t in normalised), dtype=np.int64, count=n_docs)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    keys: list[UInt] = []
    docs: list[Int] = []
    value = codes.copy()
    shift = np.uint64(64 - bits)
    for n in range(1, NGRAM_MAX + 1):
        if n > 1:
            value = value[:-1] * _BASE + codes[n - 1 :]
        starts = doc_of[: len(value)]
        valid = starts == doc_of[n - 1 :]
        if n == 1:
            valid &= (codes != START) & (codes != END)
        if n < NGRAM_MIN:
            continue
        tagged = value[valid] ^ (np.uint64(n) << np.uint64(58))
        keys.append(_finalise(tagged) >> shift)
        docs.append(starts[valid])
    bucket = np.concatenate(keys).astype(np.int64)
    doc = np.concatenate(docs)
    combined = doc * (1 << bits) + bucket
    unique, counts = np.unique(combined, return_counts=True)
    return Hashed(
        docs=unique >> bits,
        buckets=unique & ((1 << bits) - 1),
        counts=counts.astype(np.float64),
        n_docs=n_docs,
    )


def tf_weights(hashed: Hashed) -> Float:
    """1 + ln(count) for each (document, bucket), each document's vector scaled to length 1."""
    weights = 1.0 + np.log(hashed.counts)
    norms = np.sqrt(np.bincount(hashed.docs, weights * weights, minlength=hashed.n_docs))
    return weights / norms[hashed.docs]
