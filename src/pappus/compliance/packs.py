"""Rule packs: advertising rules as versioned data.

A pack is one jurisdiction's (or one platform's) rules, with the platforms and product
categories it applies to and the dates it is in force. Packs ship as YAML files in
`compliance/rules/` (version 1 of each); staff add later versions through the API, stored in
the database. The same model validates both, so a pack that loads is a pack that runs: every
regular expression compiles and every rule names its legal reference.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pappus.creators.taxonomy import CATEGORIES

RuleKind = Literal["banned_term", "pattern", "claim", "disclosure_required", "disclosure_ambiguous"]
Severity = Literal["block", "warn"]
PACK_ID = r"^[a-z][a-z0-9-]{1,63}$"
RULE_ID = r"^[a-z0-9][a-z0-9._-]{1,79}$"
Term = str


class Rule(BaseModel):
    """One rule. Which fields it needs depends on its kind:

    - banned_term, claim, disclosure_ambiguous: `terms` and/or `patterns`;
    - pattern: `patterns`;
    - disclosure_required: `terms` are the accepted disclosures; `placement_chars` says how
      far into the post (title, then text) one must start to be seen before the "more" cut-off.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=RULE_ID)
    kind: RuleKind
    severity: Severity
    message: str = Field(min_length=1, max_length=500)
    reference: str = Field(min_length=1, max_length=500, description="The legal source")
    suggestion: str = Field(default="", max_length=500)
    terms: list[Term] = Field(default_factory=list, max_length=2000)
    # Longer words that contain a term and are ordinary language (第一次 for 第一): a term
    # matched inside one of them is not a finding.
    exceptions: list[Term] = Field(default_factory=list, max_length=2000)
    patterns: list[str] = Field(default_factory=list, max_length=200)
    # Product categories (the catalog taxonomy) the rule is limited to; empty means all.
    categories: list[str] = Field(default_factory=list)
    placement_chars: int | None = Field(default=None, ge=1, le=10_000)
    # Platforms whose own disclosure label (verified at publication) satisfies this rule.
    satisfied_by_platform_label: list[str] = Field(default_factory=list)

    @field_validator("terms", "exceptions")
    @classmethod
    def _clean_terms(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip() or len(value) > 100:
                raise ValueError("every term is 1 to 100 characters and not blank")
        return values

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, values: list[str]) -> list[str]:
        for value in values:
            if len(value) > 500:
                raise ValueError("a pattern is at most 500 characters")
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern {value!r} does not compile: {exc}") from None
        return values

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, values: list[str]) -> list[str]:
        unknown = sorted(set(values) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; the taxonomy is {list(CATEGORIES)}")
        return values

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Rule:
        if self.kind == "pattern" and not self.patterns:
            raise ValueError(f"rule {self.id}: a pattern rule needs patterns")
        if self.kind == "disclosure_required":
            if not self.terms:
                raise ValueError(f"rule {self.id}: name the accepted disclosures in terms")
        elif not self.terms and not self.patterns:
            raise ValueError(f"rule {self.id}: a {self.kind} rule needs terms or patterns")
        if self.placement_chars is not None and self.kind != "disclosure_required":
            raise ValueError(f"rule {self.id}: placement_chars is for disclosure_required")
        return self


class RulePack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=PACK_ID)
    version: int = Field(ge=1, le=1_000_000)
    title: str = Field(min_length=1, max_length=200)
    jurisdiction: str = Field(
        pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country the law is of"
    )
    # Platforms the pack applies to; empty means every platform.
    platforms: list[str] = Field(default_factory=list)
    effective_from: date
    effective_until: date | None = None
    source: str = Field(default="", max_length=1000, description="Where the rules come from")
    rules: list[Rule] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> RulePack:
        ids = [r.id for r in self.rules]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"rule ids must be unique in a pack: {duplicated}")
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError("effective_until must be after effective_from")
        return self

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until
        )


@cache
def shipped_packs() -> tuple[RulePack, ...]:
    """The packs in the package (validated once per process; a broken file fails the start)."""
    folder = resources.files("pappus.compliance") / "rules"
    packs = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            packs.append(RulePack.model_validate(yaml.safe_load(entry.read_text("utf-8"))))
    return tuple(packs)
