"""Cursor pagination over time-ordered ids: `{"items": [...], "next_cursor": ...}`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from pappus.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 100


@dataclass(frozen=True)
class PageParams:
    limit: int
    after_id: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this API issued", field="query.cursor") from None
    if not value or "_" not in value or len(value) > 64:
        raise InvalidInput("cursor is not one this API issued", field="query.cursor")
    return value


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=128, description="next_cursor from the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after_id=decode_cursor(cursor) if cursor else None)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def next_cursor(ids: list[str], limit: int) -> str | None:
    """Repositories fetch limit+1 rows; a cursor exists only when the extra row did."""
    if len(ids) > limit:
        return encode_cursor(ids[limit - 1])
    return None
