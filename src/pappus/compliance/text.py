"""The one normal form rules are matched in.

Rules are written once and must catch their variants: full-width letters and digits (NO.1
typed full-width), upper case, and traditional characters (國家級). So text and terms are
both brought to NFKC, case-folded, and converted from traditional to simplified Chinese
(OpenCC's t2s tables) before matching. Findings must point into the text the user sent, so
the normal form has exactly one character for each original one: a character that would fold
to several (…, ㎏, ß, ligatures) is kept as it is. Matching misses only terms spelt with such
characters, and a span in the normal form is the same span in the original.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import opencc


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


class _OneForOne(dict[int, str]):
    """str.translate table folding each character to one: NFKC and case folding where they
    give one character, the character itself where they give several (… -> ..., ß -> ss)."""

    def __missing__(self, code: int) -> str:
        folded = unicodedata.normalize("NFKC", chr(code)).casefold()
        value = folded if len(folded) == 1 else chr(code)
        self[code] = value
        return value


_ONE_FOR_ONE = _OneForOne()


def normalise(text: str) -> str:
    """The normal form of `text`, of the same length."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if len(folded) != len(text):
        # Some character folds to several (……, ㎏, ß): fold character by character, keeping
        # those as they are, so that offsets still match the original.
        folded = text.translate(_ONE_FOR_ONE)
    simplified: str = _t2s().convert(folded)
    if len(simplified) != len(folded):
        # OpenCC converts some phrases as a whole; character by character keeps the length.
        simplified = "".join(_simplify_char(c) for c in folded)
    return simplified


@cache
def _simplify_char(char: str) -> str:
    converted = _t2s().convert(char)
    return converted if len(converted) == 1 else char


def normalise_term(term: str) -> str:
    """A rule's term in the normal form (terms have no offsets to keep)."""
    return normalise(term)


def is_word_char(char: str) -> bool:
    """Letters and digits of the Latin script: English words need boundaries, Chinese not."""
    return char.isascii() and char.isalnum()
