"""The `CurrentPrincipal` dependency: resolve the bearer token of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
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


def current_principal(
    session: DbSession, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthenticated("send Authorization: Bearer <token>", code="missing_token")
    if len(token) > 512:
        raise Unauthenticated("the bearer token is not valid", code="invalid_token")
    return service.principal_for_token(session, token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
