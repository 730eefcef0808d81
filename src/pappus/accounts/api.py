"""HTTP routes of the accounts domain: registration, tokens, /me, organizations, API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from pappus.accounts import schemas, service
from pappus.accounts.deps import CurrentPrincipal, oauth2_scheme
from pappus.accounts.principal import SCOPES
from pappus.db import DbSession
from pappus.errors import InvalidInput
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.kit.routing import DomainRouter

router = DomainRouter(tags=["accounts"])
Paging = Annotated[PageParams, Depends(page_params)]


@router.post("/auth/register", status_code=201, response_model=schemas.RegisterResponse)
def register(body: schemas.RegisterRequest, session: DbSession) -> schemas.RegisterResponse:
    """Create a brand account (with its organization, you as owner) or a creator account."""
    user, org, creator_id = service.register(
        session,
        kind=body.kind,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        organization_name=body.organization_name,
    )
    return schemas.RegisterResponse(
        user=schemas.User.model_validate(user),
        organization_id=org.id if org else None,
        creator_id=creator_id,
    )


@router.post("/auth/token", response_model=schemas.TokenResponse)
def token(
    request: Request,
    session: DbSession,
    grant_type: Annotated[str | None, Form(pattern="^(password|refresh_token)$")] = None,
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=128)] = None,
    refresh_token: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str, Form(max_length=512)] = "",
) -> schemas.TokenResponse:
    """OAuth2 token endpoint: `grant_type=password` (username is the email) or
    `grant_type=refresh_token`. Refresh tokens rotate: each can be used once."""
    if grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidInput("refresh_token is required", field="refresh_token")
        access, refresh, expires = service.refresh(session, refresh_token)
    else:
        if not username or not password:
            raise InvalidInput("username and password are required", field="username")
        form = OAuth2PasswordRequestForm(username=username, password=password, scope=scope)
        reader = request.app.state.db.session(write=False)
        try:
            user_id = service.check_credentials(reader, form.username, form.password)
        finally:
            reader.close()
        access, refresh, expires = service.login(session, user_id)
    return schemas.TokenResponse(access_token=access, refresh_token=refresh, expires_in=expires)


@router.post("/auth/logout", status_code=204)
def logout(
    session: DbSession,
    principal: CurrentPrincipal,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Response:
    """Revoke the access token used for this request."""
    if token:
        service.logout(session, token)
    return Response(status_code=204)


@router.get("/me", response_model=schemas.Me)
def me(session: DbSession, principal: CurrentPrincipal) -> schemas.Me:
    """Who the token belongs to, with organizations and roles."""
    if principal.user_id is None:
        return schemas.Me(
            user=None,
            kind="api_key",
            api_key_id=principal.api_key_id,
            memberships=[
                schemas.MembershipOut(organization_id=org, organization_name="", role=role)
                for org, role in principal.roles.items()
            ],
            scopes=sorted(principal.scopes or []),
        )
    user = service.get_user(session, principal.user_id)
    return schemas.Me(
        user=schemas.User.model_validate(user),
        kind=principal.kind,
        creator_id=principal.creator_id,
        memberships=[
            schemas.MembershipOut(organization_id=o.id, organization_name=o.name, role=m.role)
            for m, o in service.memberships(session, principal.user_id)
        ],
    )


@router.get("/scopes", response_model=dict[str, str])
def scopes() -> dict[str, str]:
    """The API-key scopes and what each allows."""
    return SCOPES


@router.get("/organizations/{organization_id}", response_model=schemas.Organization)
def get_organization(
    organization_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Organization:
    org = service.get_organization(session, principal, organization_id)
    return schemas.Organization.model_validate(org)


@router.patch("/organizations/{organization_id}", response_model=schemas.Organization)
def update_organization(
    organization_id: str,
    body: schemas.OrganizationUpdate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Organization:
    org = service.get_organization(session, principal, organization_id)
    if body.name is not None:
        org = service.rename_organization(session, principal, organization_id, body.name)
    return schemas.Organization.model_validate(org)


def _member(m: object, u: object) -> schemas.Member:
    return schemas.Member(
        id=m.id,  # type: ignore[attr-defined]
        user_id=u.id,  # type: ignore[attr-defined]
        email=u.email,  # type: ignore[attr-defined]
        display_name=u.display_name,  # type: ignore[attr-defined]
        role=m.role,  # type: ignore[attr-defined]
        created_at=m.created_at,  # type: ignore[attr-defined]
    )


@router.get("/organizations/{organization_id}/members", response_model=Page[schemas.Member])
def list_members(
    organization_id: str, session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[schemas.Member]:
    rows = service.list_members(session, principal, organization_id, page.after_id, page.limit)
    return Page(
        items=[_member(m, u) for m, u in rows[: page.limit]],
        next_cursor=next_cursor([m.id for m, _ in rows], page.limit),
    )


@router.post(
    "/organizations/{organization_id}/members", status_code=201, response_model=schemas.Member
)
def add_member(
    organization_id: str,
    body: schemas.MemberCreate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Member:
    """Add a registered brand account to the organization (admins; owners to add owners)."""
    m, u = service.add_member(session, principal, organization_id, str(body.email), body.role)
    return _member(m, u)


@router.patch("/organizations/{organization_id}/members/{user_id}", response_model=schemas.Member)
def change_member(
    organization_id: str,
    user_id: str,
    body: schemas.MemberUpdate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Member:
    m, u = service.change_member_role(session, principal, organization_id, user_id, body.role)
    return _member(m, u)


@router.delete("/organizations/{organization_id}/members/{user_id}", status_code=204)
def remove_member(
    organization_id: str, user_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    service.remove_member(session, principal, organization_id, user_id)
    return Response(status_code=204)


@router.post(
    "/organizations/{organization_id}/api-keys",
    status_code=201,
    response_model=schemas.ApiKeyCreated,
)
def create_api_key(
    organization_id: str,
    body: schemas.ApiKeyCreate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.ApiKeyCreated:
    """Create a scoped key. The secret is in this response only; Pappus stores its hash."""
    key, secret = service.create_api_key(
        session, principal, organization_id, body.name, body.scopes
    )
    return schemas.ApiKeyCreated(**schemas.ApiKey.model_validate(key).model_dump(), key=secret)


@router.get("/organizations/{organization_id}/api-keys", response_model=Page[schemas.ApiKey])
def list_api_keys(
    organization_id: str, session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[schemas.ApiKey]:
    keys = service.list_api_keys(session, principal, organization_id, page.after_id, page.limit)
    return Page(
        items=[schemas.ApiKey.model_validate(k) for k in keys[: page.limit]],
        next_cursor=next_cursor([k.id for k in keys], page.limit),
    )


@router.delete("/organizations/{organization_id}/api-keys/{key_id}", response_model=schemas.ApiKey)
def revoke_api_key(
    organization_id: str, key_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.ApiKey:
    key = service.revoke_api_key(session, principal, organization_id, key_id)
    return schemas.ApiKey.model_validate(key)
