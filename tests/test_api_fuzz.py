"""Schemathesis fuzzes every operation of the OpenAPI schema: whatever it sends, no 5xx.

Needs `schemathesis>=4` (a test dependency). Each operation gets a bounded number of generated
requests (positive and negative data, signed in as a brand owner), and schemathesis' own
`not_a_server_error` check decides. Generation is derandomized so the suite is repeatable; to
explore, set PAPPUS_FUZZ_EXAMPLES (per operation and mode, default 15) and PAPPUS_FUZZ_RANDOM=1.

On PostgreSQL, NUL characters are stripped from generated requests before they are sent: any
string holding U+0000 that reaches a query is a known 500 there (pinned by
tests/test_bad_input.py::test_nul_characters_are_refused_not_a_500), and leaving them in would make
that one bug mask everything else the fuzzer could find.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", minversion="4")

from fastapi import FastAPI  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.fixtures.builders import Who, World  # noqa: E402

MAX_EXAMPLES = int(os.environ.get("PAPPUS_FUZZ_EXAMPLES", "15"))
DERANDOMIZE = os.environ.get("PAPPUS_FUZZ_RANDOM", "") not in {"1", "true", "yes"}


@pytest.fixture
def brand_owner(world: World) -> Who:
    return world.brand("Fuzz Brand")


@pytest.fixture
def api_schema(app: FastAPI, brand_owner: Who) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def quiet_server_log() -> Iterator[None]:
    """The app logs every 500 with a traceback; the check reports them, so keep the log short."""
    logger = logging.getLogger("pappus")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _strip_nul(case: Any) -> None:
    for part in ("path_parameters", "query", "headers", "cookies"):
        value = getattr(case, part, None)
        if value:
            setattr(case, part, _without_nul(value))
    body = getattr(case, "body", None)
    if isinstance(body, str | dict | list):
        case.body = _without_nul(body)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_with_a_server_error(
    case: Any, brand_owner: Who, backend: str, quiet_server_log: None
) -> None:
    # given any request the schema allows, or nearly allows (negative data)
    if backend == "postgresql":
        _strip_nul(case)
    # when it is sent with a valid brand token, then the answer is never a 5xx
    case.call_and_validate(headers=brand_owner.headers, checks=[not_a_server_error])
