"""The checker: a post against the rule packs that apply to it, with spans into its text.

All terms of all packs go into one Aho-Corasick automaton, so a post is read once whatever the
number of terms; regular expressions run after it. Both see the normal form of text.py, and
every span is mapped back to the characters the user sent.

Which rules apply: packs of the post's jurisdiction (given, or the platform's; all packs when
neither is known), for its platform (or every platform's when it is not known), in force on
the day; within a pack, rules limited to product categories apply when the post's category is
one of them or is not known. Unknown means "could be": the checker errs towards a finding.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import ahocorasick

from pappus.compliance.packs import Rule, RulePack
from pappus.compliance.text import is_word_char, normalise, normalise_term

# The jurisdiction a platform's posts are judged in when the caller does not say.
PLATFORM_JURISDICTION = {
    "xiaohongshu": "CN",
    "douyin": "CN",
    "kuaishou": "CN",
    "weibo": "CN",
    "bilibili": "CN",
    "wechat": "CN",
    "sandbox": "CN",  # the simulated platform is modelled on Xiaohongshu
    "instagram": "US",
    "tiktok": "US",
    "youtube": "US",
    "facebook": "US",
    "x": "US",
}
BRAND_PLACEHOLDER = "{brand}"
_TERM, _EXCEPTION = 0, 1
Field = str  # "title", "text" or "hashtags"


@dataclass(frozen=True)
class Post:
    text: str
    title: str = ""
    hashtags: tuple[str, ...] = ()
    platform: str | None = None
    jurisdiction: str | None = None
    category: str | None = None
    sponsored: bool = True
    brand: str | None = None

    @property
    def hashtag_line(self) -> str:
        """The hashtags as a post shows them, after the text: `#a #b`."""
        return " ".join(f"#{tag.lstrip('#')}" for tag in self.hashtags)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    pack: str
    kind: str
    severity: str
    field: Field
    start: int
    end: int
    match: str
    message: str
    reference: str
    suggestion: str


@dataclass(frozen=True)
class CheckResult:
    packs: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    findings: tuple[Finding, ...]
    # Disclosure rules left to the platform's label, checked when the post is published.
    label_required: tuple[str, ...] = ()

    @property
    def blocking(self) -> int:
        return sum(1 for f in self.findings if f.severity == "block")


@dataclass(frozen=True)
class _Compiled:
    pack: RulePack
    rule: Rule
    patterns: tuple[re.Pattern[str], ...]
    brand_patterns: tuple[str, ...]
    terms: frozenset[str] = field(default_factory=frozenset)


@dataclass
class _Match:
    rule: int
    start: int  # in the normal form
    end: int


class RuleEngine:
    """The compiled form of a set of packs (build once, check many times; thread-safe)."""

    def __init__(self, packs: Sequence[RulePack]) -> None:
        self.packs = tuple(packs)
        self.rules: list[_Compiled] = []
        entries: dict[str, list[tuple[int, int]]] = {}
        for pack in self.packs:
            for rule in pack.rules:
                index = len(self.rules)
                plain = [p for p in rule.patterns if BRAND_PLACEHOLDER not in p]
                self.rules.append(
                    _Compiled(
                        pack=pack,
                        rule=rule,
                        patterns=tuple(re.compile(p) for p in plain),
                        brand_patterns=tuple(p for p in rule.patterns if p not in plain),
                        terms=frozenset(normalise_term(t) for t in rule.terms),
                    )
                )
                for term in rule.terms:
                    entries.setdefault(normalise_term(term), []).append((index, _TERM))
                for word in rule.exceptions:
                    entries.setdefault(normalise_term(word), []).append((index, _EXCEPTION))
        self.automaton = ahocorasick.Automaton()
        for key, roles in entries.items():
            self.automaton.add_word(key, (len(key), tuple(roles)))
        if entries:
            self.automaton.make_automaton()
        self._applicable: dict[tuple[object, ...], frozenset[int]] = {}

    # -- which rules apply

    def jurisdictions_for(self, post: Post) -> tuple[str, ...]:
        wanted = post.jurisdiction or PLATFORM_JURISDICTION.get(post.platform or "")
        known = sorted({p.jurisdiction for p in self.packs})
        return (wanted,) if wanted else tuple(known)

    def applicable(self, post: Post, day: date) -> frozenset[int]:
        jurisdictions = self.jurisdictions_for(post)
        key = (jurisdictions, post.platform, post.category, day)
        found = self._applicable.get(key)
        if found is None:
            found = frozenset(
                i
                for i, c in enumerate(self.rules)
                if c.pack.jurisdiction in jurisdictions
                and c.pack.in_force(day)
                and (not c.pack.platforms or post.platform in (None, *c.pack.platforms))
                and (not c.rule.categories or post.category in (None, *c.rule.categories))
            )
            if len(self._applicable) > 4096:
                self._applicable.clear()
            self._applicable[key] = found
        return found

    # -- checking

    def check(self, post: Post, day: date) -> CheckResult:
        rules = self.applicable(post, day)
        used_packs = sorted({self.rules[i].pack.key for i in rules})
        fields: list[tuple[Field, str]] = [
            ("title", post.title),
            ("text", post.text),
            ("hashtags", post.hashtag_line),
        ]
        findings: list[Finding] = []
        markers: dict[int, list[tuple[Field, int, int]]] = {}
        label_left: list[str] = []
        for name, original in fields:
            if not original:
                continue
            for m in self._matches(normalise(original), rules, post.brand):
                compiled = self.rules[m.rule]
                start, end = m.start, m.end
                if compiled.rule.kind == "disclosure_required":
                    markers.setdefault(m.rule, []).append((name, start, end))
                    continue
                findings.append(self._finding(compiled, name, original, start, end))
        findings = _drop_warnings_inside_blocks(findings)
        if post.sponsored:
            for index in sorted(rules):
                compiled = self.rules[index]
                if compiled.rule.kind != "disclosure_required":
                    continue
                # A platform's own label rule, for a post whose platform is not known,
                # can only be checked at publication.
                platform_unknown = post.platform is None and bool(compiled.pack.platforms)
                if platform_unknown or post.platform in compiled.rule.satisfied_by_platform_label:
                    label_left.append(f"{compiled.pack.key}:{compiled.rule.id}")
                    continue
                findings.extend(self._disclosure(compiled, markers.get(index, []), post))
        findings.sort(key=lambda f: (_FIELD_ORDER[f.field], f.start, f.end, f.rule_id))
        return CheckResult(
            packs=tuple(used_packs),
            jurisdictions=self.jurisdictions_for(post),
            findings=tuple(findings),
            label_required=tuple(label_left),
        )

    def _matches(self, text: str, rules: frozenset[int], brand: str | None) -> list[_Match]:
        terms: list[_Match] = []
        exceptions: dict[int, list[tuple[int, int]]] = {}
        if len(self.automaton):
            for last, (length, roles) in self.automaton.iter(text):
                start, end = last - length + 1, last + 1
                bounded: bool | None = None
                for rule, role in roles:
                    if rule not in rules:
                        continue
                    if role == _EXCEPTION:
                        exceptions.setdefault(rule, []).append((start, end))
                        continue
                    if bounded is None:
                        bounded = _on_word_boundaries(text, start, end)
                    if bounded:
                        terms.append(_Match(rule, start, end))
        covers = {rule: _Covers(spans) for rule, spans in exceptions.items()}
        kept = [m for m in terms if m.rule not in covers or not covers[m.rule].cover(m)]
        for rule in rules:
            compiled = self.rules[rule]
            for pattern in (*compiled.patterns, *_brand_patterns(compiled.brand_patterns, brand)):
                for found in pattern.finditer(text):
                    if found.end() > found.start():
                        kept.append(_Match(rule, found.start(), found.end()))
        return _longest_per_rule(kept)

    @staticmethod
    def _finding(compiled: _Compiled, name: Field, text: str, start: int, end: int) -> Finding:
        rule = compiled.rule
        return Finding(
            rule_id=rule.id,
            pack=compiled.pack.key,
            kind=rule.kind,
            severity=rule.severity,
            field=name,
            start=start,
            end=end,
            match=text[start:end],
            message=rule.message,
            reference=rule.reference,
            suggestion=rule.suggestion,
        )

    def _disclosure(
        self, compiled: _Compiled, found: list[tuple[Field, int, int]], post: Post
    ) -> list[Finding]:
        rule = compiled.rule
        if not found:
            missing = Finding(
                rule_id=rule.id,
                pack=compiled.pack.key,
                kind="disclosure_missing",
                severity=rule.severity,
                field="text",
                start=0,
                end=0,
                match="",
                message=rule.message,
                reference=rule.reference,
                suggestion=rule.suggestion,
            )
            return [missing]
        if rule.placement_chars is None:
            return []
        # Where each disclosure starts in the post as shown: title, then text, then hashtags.
        offsets = {"title": 0, "text": 0, "hashtags": len(post.text) + 1}
        earliest = min(found, key=lambda f: (0 if f[0] == "title" else offsets[f[0]] + f[1], f[1]))
        name, start, end = earliest
        position = 0 if name == "title" else offsets[name] + start
        if position < rule.placement_chars:
            return []
        source = {"title": post.title, "text": post.text, "hashtags": post.hashtag_line}[name]
        return [
            Finding(
                rule_id=rule.id,
                pack=compiled.pack.key,
                kind="disclosure_placement",
                severity=rule.severity,
                field=name,
                start=start,
                end=end,
                match=source[start:end],
                message=(
                    f"the disclosure starts at character {position}, after the first "
                    f"{rule.placement_chars} that show before 'more'; {rule.message}"
                ),
                reference=rule.reference,
                suggestion=rule.suggestion,
            )
        ]


_FIELD_ORDER = {"title": 0, "text": 1, "hashtags": 2}


class _Covers:
    """Does one of these spans contain a match? (By the furthest end of the spans starting at
    or before it: one bisection per match, not a scan.)"""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [s for s, _ in spans]
        self.reach = list(itertools.accumulate((e for _, e in spans), max))

    def cover(self, match: _Match) -> bool:
        index = bisect.bisect_right(self.starts, match.start)
        return index > 0 and self.reach[index - 1] >= match.end


def _drop_warnings_inside_blocks(findings: list[Finding]) -> list[Finding]:
    """One finding per place: 最好 inside the blocking 最好用, 第一 inside 全网第一, 治愈 inside
    治愈率高达95% say nothing more than the finding around them. A finding is dropped when a
    longer one of at least its severity contains it. One pass in order of position."""
    rank = {"warn": 0, "block": 1}
    kept: list[Finding] = []
    ordered = sorted(findings, key=lambda f: (f.field, f.start, -f.end))
    field: str | None = None
    # The furthest end reached by a kept finding of at least each severity that started
    # before the current position, and by one that started at it.
    before = [-1, -1]
    here = [-1, -1]
    start = -1
    for f in ordered:
        if f.field != field:
            field, before, here, start = f.field, [-1, -1], [-1, -1], f.start
        elif f.start != start:
            before = [max(b, h) for b, h in zip(before, here, strict=True)]
            here, start = [-1, -1], f.start
        level = rank[f.severity]
        if before[level] >= f.end or here[level] > f.end:
            continue
        kept.append(f)
        for at_most in range(level + 1):
            here[at_most] = max(here[at_most], f.end)
    return kept


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    """English terms match whole words: `#ad` is not in `#adidas`, `cure` not in `secure`."""
    if is_word_char(text[start]) and start > 0 and is_word_char(text[start - 1]):
        return False
    return not (is_word_char(text[end - 1]) and end < len(text) and is_word_char(text[end]))


def _longest_per_rule(matches: Iterable[_Match]) -> list[_Match]:
    """One finding per place and rule: 全网第一 once, not also 第一 inside it."""
    kept: list[_Match] = []
    last_end: dict[int, int] = {}
    for m in sorted(matches, key=lambda m: (m.rule, m.start, -(m.end - m.start))):
        if m.end <= last_end.get(m.rule, -1) or (m.start < last_end.get(m.rule, -1)):
            continue
        kept.append(m)
        last_end[m.rule] = m.end
    return kept


@lru_cache(maxsize=1024)
def _brand_pattern(pattern: str, brand: str) -> re.Pattern[str]:
    return re.compile(pattern.replace(BRAND_PLACEHOLDER, re.escape(normalise_term(brand))))


def _brand_patterns(patterns: tuple[str, ...], brand: str | None) -> list[re.Pattern[str]]:
    if not brand or not brand.strip() or not patterns:
        return []
    return [_brand_pattern(p, brand) for p in patterns]
