"""The `CurrentPrincipal` dependency: resolve the bearer token of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from pappus.accounts import service
from pappus.accounts.principal import Principal
from pappus.db import DbSession
from pappus.errors import Unauthenticated

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="A user access token from POST /auth/token, or an organization API key (pk_...)",
)


def _bearer(token: str | None) -> str:
    if not token:
        raise Unauthenticated("send Authorization: Bearer <token>", code="missing_token")
    if len(token) > 512:
        raise Unauthenticated("the bearer token is not valid", code="invalid_token")
    return token


def current_principal(
    session: DbSession, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    return service.principal_for_token(session, _bearer(token))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def principal_outside_transaction(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """For handlers that wait on another service mid-request (a social platform): the token
    is resolved in a short read of its own, so no transaction stays open while they wait."""
    secret = _bearer(token)
    with request.app.state.db.unit_of_work(write=False) as session:
        return service.principal_for_token(session, secret)


PrincipalOutsideTransaction = Annotated[Principal, Depends(principal_outside_transaction)]
