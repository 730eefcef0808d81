"""Prefixed, time-ordered identifiers: `ord_0193f...`; sorting by id sorts by creation."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """A 12-hex-digit millisecond timestamp then 64 random bits, after a type prefix."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(8)}"
