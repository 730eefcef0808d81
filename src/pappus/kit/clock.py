"""The one source of 'now'; tests and the demo can move it to exercise timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


class Clock:
    """Wall-clock time in UTC, with an offset that tests may advance."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        base = self._frozen if self._frozen is not None else datetime.now(UTC)
        return base + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def freeze(self, at: datetime | None = None) -> None:
        self._frozen = at or datetime.now(UTC)
        self._offset = timedelta(0)

    def reset(self) -> None:
        self._offset = timedelta(0)
        self._frozen = None


clock = Clock()


def now() -> datetime:
    return clock.now()


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp is outside the representable range") from None


# Input timestamps: a time zone is required, and the value is stored in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
