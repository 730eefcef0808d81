"""HTTP routes of the connectors domain: link a social account by OAuth, list, sync, unlink."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from pappus.accounts.deps import CurrentPrincipal
from pappus.connectors import service
from pappus.connectors.schemas import (
    FollowerDay,
    LinkRequest,
    LinkStarted,
    PublicSocialAccount,
    SocialAccountView,
)
from pappus.db import Database, DbSession
from pappus.kit.pagination import Page
from pappus.kit.routing import DomainRouter

router = DomainRouter(tags=["social accounts"])


@router.post("/creators/me/social-accounts", status_code=201, response_model=LinkStarted)
def start_link(body: LinkRequest, session: DbSession, principal: CurrentPrincipal) -> LinkStarted:
    """Start linking a social account: open `authorization_url` in the browser, sign in on
    the platform (never here) and allow; the platform sends the browser back to
    `/connectors/{platform}/callback`. The link request expires after 10 minutes."""
    started = service.start_link(session, principal, body.platform)
    return LinkStarted(
        authorization_url=started.authorization_url,
        state=started.state,
        expires_at=started.expires_at,
    )


@router.get("/connectors/{platform}/callback", response_model=SocialAccountView)
def callback(
    platform: str,
    request: Request,
    state: Annotated[str, Query(min_length=1, max_length=64)],
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> SocialAccountView:
    """Where the platform sends the browser back. Authenticated by the one-time `state`,
    not by a bearer token (the browser has none)."""
    db: Database = request.app.state.db
    account = service.complete_link(db, platform, state, code, error)
    return SocialAccountView.of(account)


@router.get("/creators/me/social-accounts", response_model=Page[SocialAccountView])
def list_accounts(session: DbSession, principal: CurrentPrincipal) -> Page[SocialAccountView]:
    """The creator's linked accounts (a creator has a handful: one page, no cursor)."""
    accounts = service.list_accounts(session, principal)
    return Page(items=[SocialAccountView.of(a) for a in accounts], next_cursor=None)


@router.get("/creators/me/social-accounts/{account_id}", response_model=SocialAccountView)
def get_account(
    account_id: str, session: DbSession, principal: CurrentPrincipal
) -> SocialAccountView:
    return SocialAccountView.of(service.own_account(session, principal, account_id))


@router.post(
    "/creators/me/social-accounts/{account_id}/sync",
    status_code=202,
    response_model=SocialAccountView,
)
def sync(account_id: str, session: DbSession, principal: CurrentPrincipal) -> SocialAccountView:
    """Enqueue a sync now (it also runs every few hours by itself)."""
    return SocialAccountView.of(service.request_sync(session, principal, account_id))


@router.delete("/creators/me/social-accounts/{account_id}", status_code=204)
def unlink(account_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    """Unlink: the tokens are deleted at once."""
    service.unlink(session, principal, account_id)
    return Response(status_code=204)


@router.get("/creators/{creator_id}/social-accounts", response_model=Page[PublicSocialAccount])
def public_accounts(
    creator_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    days: Annotated[int, Query(ge=1, le=365, description="Days of follower history")] = 90,
) -> Page[PublicSocialAccount]:
    """A creator's linked accounts as the platforms report them, with the follower count per
    day (a creator has a handful: one page, no cursor)."""
    found = service.public_accounts(session, creator_id, days)
    return Page(
        items=[
            PublicSocialAccount(
                platform=a.platform,
                handle=a.handle,
                display_name=a.display_name,
                followers=a.followers,
                engagement_rate_bp=a.engagement_rate_bp,
                last_synced_at=a.last_synced_at,
                linked_at=a.created_at,
                follower_history=[FollowerDay(date=d, followers=n) for d, n in history],
            )
            for a, history in found
        ],
        next_cursor=None,
    )
