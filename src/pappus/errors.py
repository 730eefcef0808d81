"""The PappusError family and the RFC 9457 problem+json handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("pappus")

PROBLEM_BASE = "https://pappus.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class PappusError(Exception):
    """A domain error with a stable code; one handler turns it into problem+json."""

    code = "error"
    status = 400
    title = "Request failed"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        if code:
            self.code = code
        self.extra = extra
        super().__init__(self.detail)


class NotFound(PappusError):
    code = "not_found"
    status = 404
    title = "Not found"


class Unauthenticated(PappusError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class Forbidden(PappusError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class Conflict(PappusError):
    code = "conflict"
    status = 409
    title = "Conflict"


class InvalidInput(PappusError):
    code = "invalid_input"
    status = 422
    title = "Invalid input"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        if field is not None:
            extra.setdefault("errors", [{"field": field, "message": detail, "type": "value_error"}])
        super().__init__(detail, **extra)


class RateLimited(PappusError):
    """Too many attempts; `retry_after_seconds` is sent as the Retry-After header too."""

    code = "rate_limited"
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: int, **extra: Any) -> None:
        super().__init__(detail, retry_after_seconds=max(1, retry_after_seconds), **extra)


class PayloadTooLarge(PappusError):
    code = "payload_too_large"
    status = 413
    title = "Request body too large"


def problem(
    status: int, code: str, title: str, detail: str, instance: str, /, **extra: Any
) -> JSONResponse:
    body = {
        **extra,
        # The RFC 9457 members always win over extension members of the same name.
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429 and isinstance(extra.get("retry_after_seconds"), int):
        headers = {"Retry-After": str(extra["retry_after_seconds"])}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_for(exc: PappusError, instance: str) -> JSONResponse:
    """The answer for a domain error (also for handlers that return a refusal after
    committing what it changed, instead of raising it)."""
    return problem(exc.status, exc.code, exc.title, exc.detail, instance, **exc.extra)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else ".".join([where, *rest])
    return ".".join(parts)


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PappusError)
    async def _pappus_error(request: Request, exc: PappusError) -> JSONResponse:
        return problem_for(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        malformed = False
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                malformed = True
            errors.append(
                {
                    "field": _field_path(err.get("loc", ())),
                    "message": err.get("msg", "invalid"),
                    "type": err.get("type", "value_error"),
                }
            )
        if malformed:
            return problem(
                400,
                "malformed_body",
                "Malformed request body",
                "The request body is not valid JSON.",
                request.url.path,
                errors=errors,
            )
        return problem(
            422,
            "validation_failed",
            "Validation failed",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request",
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "Request failed"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 400 and detail.startswith("There was an error parsing the body"):
            # FastAPI's wording for bodies that are not JSON (bad UTF-8, too deep, too long).
            return problem(
                400,
                "malformed_body",
                "Malformed request body",
                "The request body could not be parsed as JSON.",
                request.url.path,
                errors=[{"field": "body", "message": detail, "type": "json_invalid"}],
            )
        return problem(exc.status_code, code, title, detail, request.url.path)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # Uniqueness is enforced by constraints; a race that loses one is a conflict, not a bug.
        logger.info("integrity error on %s: %s", request.url.path, exc.orig)
        return problem(
            409,
            "conflict",
            "Conflict",
            "The request conflicts with the current state of the resource; retry or reload.",
            request.url.path,
        )

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        # Values the database cannot hold (NUL characters on PostgreSQL, out-of-range numbers).
        logger.info("data error on %s: %s", request.url.path, exc.orig)
        return problem(
            422,
            "unstorable_value",
            "Value cannot be stored",
            "A value in the request cannot be stored (e.g. a NUL character or an "
            "out-of-range number).",
            request.url.path,
        )

    @app.exception_handler(OperationalError)
    async def _operational_error(request: Request, exc: OperationalError) -> JSONResponse:
        text = str(exc.orig).lower()
        if "locked" in text or "deadlock" in text or "could not serialize" in text:
            return problem(
                503,
                "busy",
                "Busy",
                "The database is busy; retry the request.",
                request.url.path,
            )
        logger.exception("database error on %s", request.url.path)
        return problem(500, "internal_error", "Internal error", "Database error.", request.url.path)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path)
        return problem(
            500,
            "internal_error",
            "Internal error",
            "An unexpected error occurred; it has been logged.",
            request.url.path,
        )
