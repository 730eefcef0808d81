"""Response bodies of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Order of writing")
    sequence: int | None = Field(
        description="Position in the platform's one chain, from 1; null until sealed (within"
        " about a minute of writing)"
    )
    at: datetime
    actor_kind: str = Field(description="brand, creator, staff, api_key, system, ...")
    actor_id: str | None
    action: str = Field(description="What happened: order.approve_draft, ledger.transfer, ...")
    subject_kind: str
    subject_id: str
    data: dict[str, Any]
    prev_hash: str | None
    hash: str | None = Field(description="sha256 of prev_hash and the entry's canonical JSON")


class VerificationView(BaseModel):
    ok: bool
    entries: int = Field(description="Entries checked before the first problem (all when ok)")
    problem: str | None = None
    first_bad_sequence: int | None = None
    unsealed: int = Field(default=0, description="Entries written but not chained yet")
