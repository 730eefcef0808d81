"""Linking social accounts by OAuth and keeping them in sync.

Linking: the creator asks to link (`start_link`: a one-time `state` and a PKCE verifier are
stored, and the platform's authorization URL is returned); the creator signs in on the
platform, which redirects the browser to our callback (`complete_link`: the state is consumed
once, the code exchanged, the tokens stored encrypted, a sync enqueued).

Syncing: every platform call is made outside any database transaction, and what they return
is written in one transaction at the end, so a platform that fails or times out half way
changes nothing but the account's failure count.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.audit import service as audit
from pappus.config import get_settings
from pappus.connectors import repository as repo
from pappus.connectors.base import Connector, ConnectorError, PlatformPost, Profile, TokenSet
from pappus.connectors.models import OAuthState, SocialAccount
from pappus.connectors.sandbox import SandboxConnector
from pappus.creators import repository as creators_repo
from pappus.db import Database, after_commit
from pappus.errors import Conflict, InvalidInput, NotFound, PappusError
from pappus.kit import crypto
from pappus.kit.clock import now
from pappus.ledger.payments import encryption_key

logger = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORMS = ("sandbox",)
STATE_TTL = timedelta(minutes=10)
SYNC_EVERY = timedelta(hours=6)
RETRY_FAILING_AFTER = timedelta(hours=1)  # a failing account's periodic retry, at most
TOKEN_REFRESH_MARGIN = timedelta(minutes=2)
POSTS_FOR_ENGAGEMENT = 30  # recent posts whose median engagement rate is the creator's
# A younger post has not collected its engagement yet (on the sandbox, 96% after 5 days).
SETTLED_AFTER = timedelta(days=5)


class LinkFailed(PappusError):
    status = 502
    code = "link_failed"
    title = "The social platform could not complete the link"


class LinkRefused(InvalidInput):
    code = "link_refused"


class InvalidState(InvalidInput):
    code = "invalid_oauth_state"


class AlreadyLinked(Conflict):
    code = "social_account_taken"
    title = "Social account linked to another creator"


def connector_for(platform: str) -> Connector:
    if platform not in PLATFORMS:
        raise NotFound(f"no connector for platform {platform!r}; known: {', '.join(PLATFORMS)}")
    settings = get_settings()
    return SandboxConnector(
        settings.sandbox_url,
        settings.sandbox_client_id,
        settings.sandbox_client_secret,
        timeout=settings.connector_timeout_seconds,
    )


def callback_uri(platform: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/api/v1/connectors/{platform}/callback"


@dataclass(frozen=True)
class LinkStart:
    authorization_url: str
    state: str
    expires_at: datetime


def start_link(session: Session, principal: Principal, platform: str) -> LinkStart:
    creator_id = principal.require_creator()
    connector = connector_for(platform)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = OAuthState(
        state=secrets.token_urlsafe(24),
        creator_id=creator_id,
        platform=platform,
        code_verifier=verifier,
        redirect_uri=callback_uri(platform),
        expires_at=now() + STATE_TTL,
    )
    repo.add(session, state)
    url = connector.authorization_url(
        state=state.state,
        redirect_uri=state.redirect_uri,
        code_challenge=challenge.decode().rstrip("="),
    )
    return LinkStart(url, state.state, state.expires_at)


@dataclass(frozen=True)
class _Pending:
    creator_id: str
    code_verifier: str
    redirect_uri: str


def _consume_state(session: Session, platform: str, state: str) -> _Pending:
    found = repo.lock_state(session, state)
    if found is None or found.platform != platform:
        raise InvalidState("unknown OAuth state; start linking again", field="query.state")
    if found.used_at is not None:
        raise InvalidState("this OAuth state was already used", field="query.state")
    if found.expires_at <= now():
        raise InvalidState("this link request expired; start linking again", field="query.state")
    found.used_at = now()
    session.flush()
    return _Pending(found.creator_id, found.code_verifier, found.redirect_uri)


def complete_link(
    db: Database, platform: str, state: str, code: str | None, error: str | None
) -> SocialAccount:
    """The platform's redirect back: consume the state (once, whatever happens next), exchange
    the code, store the tokens encrypted and enqueue the first sync."""
    connector = connector_for(platform)
    with db.unit_of_work() as session:
        pending = _consume_state(session, platform, state)
    if error:
        raise LinkRefused(f"the platform answered {error[:100]}; nothing was linked")
    if not code:
        raise InvalidInput("the callback has neither code nor error", field="query.code")
    try:
        tokens = connector.exchange_code(
            code=code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
        )
        profile = connector.profile(tokens.access_token)
    except ConnectorError as exc:
        raise LinkFailed(f"{exc}; start linking again") from None
    with db.unit_of_work() as session:
        account = repo.by_external_id(session, platform, profile.open_id)
        if account is not None and account.creator_id != pending.creator_id:
            if account.status != "unlinked":
                raise AlreadyLinked("this social account is linked to another Pappus creator")
            # Unlinked by its former creator: whoever proves control of it now may link it.
            account.creator_id = pending.creator_id
        if account is None:
            account = SocialAccount(
                creator_id=pending.creator_id,
                platform=platform,
                external_id=profile.open_id,
                handle=profile.handle,
            )
            repo.add(session, account)
        _store_tokens(session, account, tokens)
        account.status = "active"
        account.sync_failures, account.last_sync_error = 0, None
        _apply_profile(account, profile)
        session.flush()
        account_id = account.id
        audit.record(
            session,
            "social_account.linked",
            "creator",
            pending.creator_id,
            actor_kind="creator",
            data={"social_account_id": account_id, "platform": platform},
        )
        after_commit(session, lambda: _enqueue_sync(account_id))
    return account


def _enqueue_sync(account_id: str) -> None:
    from pappus.connectors.tasks import sync_social_account_job

    sync_social_account_job(account_id)


def _store_tokens(session: Session, account: SocialAccount, tokens: TokenSet) -> None:
    key = encryption_key(session)
    account.access_token_encrypted = crypto.encrypt(key, tokens.access_token, f"{account.id}:a")
    if tokens.refresh_token:
        account.refresh_token_encrypted = crypto.encrypt(
            key, tokens.refresh_token, f"{account.id}:r"
        )
    account.token_expires_at = now() + timedelta(seconds=tokens.expires_in)
    account.scopes = tokens.scope[:200]


def _apply_profile(account: SocialAccount, profile: Profile) -> None:
    account.handle = profile.handle
    account.display_name = profile.display_name
    account.followers, account.following, account.posts = (
        profile.followers,
        profile.following,
        profile.posts,
    )
    account.profile = {
        "bio": profile.bio,
        "language": profile.language,
        "region": profile.region,
        "categories": profile.categories,
        "has_external_url": profile.has_external_url,
        "as_of": profile.as_of.isoformat(),
    }


# -- the creator's view ---------------------------------------------------------------------


def list_accounts(session: Session, principal: Principal) -> list[SocialAccount]:
    return list(repo.of_creator(session, principal.require_creator()))


def own_account(session: Session, principal: Principal, account_id: str) -> SocialAccount:
    creator_id = principal.require_creator()  # others are refused before any lookup
    account = repo.get(session, account_id)
    if account is None or account.creator_id != creator_id or account.status == "unlinked":
        raise NotFound("social account not found")
    return account


def public_accounts(
    session: Session, creator_id: str, days: int
) -> list[tuple[SocialAccount, list[tuple[date, int]]]]:
    """A creator's active linked accounts with their daily follower counts of the last
    `days` days, oldest first."""
    if creators_repo.get(session, creator_id) is None:
        raise NotFound("creator not found")
    accounts = [a for a in repo.of_creator(session, creator_id) if a.status == "active"]
    since = now().date() - timedelta(days=days)
    history: dict[str, list[tuple[date, int]]] = {a.id: [] for a in accounts}
    for count in repo.follower_counts(session, list(history), since):
        history[count.social_account_id].append((count.day, count.followers))
    return [(a, history[a.id]) for a in accounts]


def request_sync(session: Session, principal: Principal, account_id: str) -> SocialAccount:
    account = own_account(session, principal, account_id)
    if account.status != "active":
        raise Conflict("this account must be linked again before it can sync", code="needs_relink")
    after_commit(session, lambda: _enqueue_sync(account_id))
    return account


def unlink(session: Session, principal: Principal, account_id: str) -> None:
    """Forget the tokens at once; the account's history stays for past orders' records."""
    account = own_account(session, principal, account_id)
    account.status = "unlinked"
    account.access_token_encrypted = account.refresh_token_encrypted = None
    account.token_expires_at = None
    audit.record(
        session,
        "social_account.unlinked",
        "creator",
        account.creator_id,
        actor=principal,
        data={"social_account_id": account.id, "platform": account.platform},
    )
    session.flush()


# -- syncing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fetched:
    profile: Profile
    audience: dict[str, object]
    history: list[tuple[date, int]]
    engagement_rate_bp: int | None
    topics: list[str]
    last_post_at: datetime | None
    tokens: TokenSet | None


def topics_of(posts: list[PlatformPost], limit: int = 12) -> list[str]:
    """The hashtags the creator uses most, without '#', most frequent first."""
    counts: dict[str, int] = {}
    for post in posts:
        for tag in post.hashtags:
            word = tag.strip().lstrip("#").strip()[:40]
            if word:
                counts[word] = counts.get(word, 0) + 1
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def _access_token(session: Session, account: SocialAccount) -> tuple[str | None, str | None, bool]:
    key = encryption_key(session)
    access = refresh = None
    if account.access_token_encrypted:
        access = crypto.decrypt(key, account.access_token_encrypted, f"{account.id}:a")
    if account.refresh_token_encrypted:
        refresh = crypto.decrypt(key, account.refresh_token_encrypted, f"{account.id}:r")
    expired = account.token_expires_at is None or (
        account.token_expires_at - TOKEN_REFRESH_MARGIN <= now()
    )
    return access, refresh, expired


def engagement_rate_bp(posts: list[PlatformPost], followers: int, at: datetime) -> int | None:
    """The median, over recent posts old enough to have collected their engagement, of
    (likes + saves + comments + shares) / followers, in basis points."""
    if followers <= 0:
        return None
    rates = [
        p.metrics.engagements / followers for p in posts if at - p.published_at >= SETTLED_AFTER
    ]
    if not rates:
        return None
    return round(statistics.median(rates) * 10_000)


def recent_posts(connector: Connector, access: str, count: int) -> list[PlatformPost]:
    """The account's `count` newest posts (fewer if it has fewer), page by page."""
    posts: list[PlatformPost] = []
    cursor = None
    while len(posts) < count:
        page = connector.posts(access, cursor, limit=count)
        posts += page.posts
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return posts[:count]


def _fetch(connector: Connector, access: str, refreshed: TokenSet | None) -> _Fetched:
    profile = connector.profile(access)
    audience = connector.audience(access)
    history = connector.follower_history(access)
    posts = recent_posts(connector, access, POSTS_FOR_ENGAGEMENT)
    return _Fetched(
        profile=profile,
        audience=audience.model_dump(mode="json"),
        history=[(h.date, h.followers) for h in history],
        engagement_rate_bp=engagement_rate_bp(posts, profile.followers, profile.as_of),
        topics=topics_of(posts),
        last_post_at=max((p.published_at for p in posts), default=None),
        tokens=refreshed,
    )


def sync_account(db: Database, account_id: str) -> str:
    """Read everything the platform says about the account, then write it in one
    transaction. Returns the outcome: synced, skipped (not active), or needs_relink."""
    with db.unit_of_work(write=False) as session:
        account = repo.get(session, account_id)
        if account is None or account.status != "active":
            return "skipped"
        platform = account.platform
        access, refresh, expired = _access_token(session, account)
    connector = connector_for(platform)
    try:
        refreshed = None
        if expired or access is None:
            if refresh is None:
                raise ConnectorError("no refresh token", retryable=False, status=401)
            refreshed = connector.refresh(refresh)
            access = refreshed.access_token
        fetched = _fetch(connector, access, refreshed)
    except ConnectorError as exc:
        _record_failure(db, account_id, exc)
        if not exc.retryable:
            return "needs_relink" if exc.status in (400, 401, 403) else "failed"
        raise
    with db.unit_of_work() as session:
        account = repo.get(session, account_id)
        if account is None or account.status != "active":
            return "skipped"  # unlinked while we were reading
        if fetched.tokens is not None:
            _store_tokens(session, account, fetched.tokens)
        _apply_profile(account, fetched.profile)
        account.audience = fetched.audience
        account.engagement_rate_bp = fetched.engagement_rate_bp
        account.profile = {
            **account.profile,
            "topics": fetched.topics,
            "last_post_at": fetched.last_post_at.isoformat() if fetched.last_post_at else None,
        }
        account.last_synced_at = now()
        account.sync_failures, account.last_sync_error = 0, None
        repo.save_follower_counts(session, account.id, fetched.history)
        _update_creator(session, account.creator_id)
    return "synced"


def _record_failure(db: Database, account_id: str, exc: ConnectorError) -> None:
    with db.unit_of_work() as session:
        account = repo.get(session, account_id)
        if account is None:
            return
        account.sync_failures += 1
        account.last_sync_error = str(exc)[:500]
        if not exc.retryable and exc.status in (400, 401, 403):
            account.status = "needs_relink"  # the platform no longer honours our tokens
    logger.warning("sync of %s failed: %s", account_id, exc)


def _update_creator(session: Session, creator_id: str) -> None:
    """The catalog shows the creator's largest linked account: its followers, engagement
    rate and handle replace anything self-reported."""
    profile = creators_repo.get(session, creator_id)
    linked = [a for a in repo.of_creator(session, creator_id) if a.status == "active"]
    if profile is None or not linked:
        return
    main = max(linked, key=lambda a: (a.followers, a.id))
    profile.followers = main.followers
    profile.engagement_rate_bp = main.engagement_rate_bp
    profile.primary_platform = main.platform
    profile.handle = main.handle
    profile.audience = dict(main.audience or {})
    profile.topics = list((main.profile or {}).get("topics") or [])
    posted = [
        datetime.fromisoformat(p) for a in linked if (p := (a.profile or {}).get("last_post_at"))
    ]
    profile.last_active_at = max(posted, default=profile.last_active_at)
    session.flush()


def follower_counts(
    session: Session, account_ids: list[str], since: date
) -> dict[str, dict[date, int]]:
    """Daily follower counts per account from `since` on, as the platforms reported them."""
    counts: dict[str, dict[date, int]] = {}
    for count in repo.follower_counts(session, account_ids, since):
        counts.setdefault(count.social_account_id, {})[count.day] = count.followers
    return counts


def has_active_account(session: Session, creator_id: str) -> bool:
    """Whether any linked account of the creator is active (its figures replace theirs)."""
    return repo.has_active_account(session, creator_id)


def active_accounts(session: Session, creator_id: str, platform: str) -> list[SocialAccount]:
    """The creator's accounts on `platform` that Pappus may read now."""
    return [
        a
        for a in repo.of_creator(session, creator_id)
        if a.platform == platform and a.status == "active"
    ]


def call_platform(db: Database, account_id: str, read: Callable[[Connector, str], T]) -> T:
    """One read for a linked account, outside any transaction: its access token decrypted
    (refreshed first when it is about to expire; the new tokens are stored at once), then
    `read(connector, access_token)`. Raises ConnectorError as the platform answered."""
    with db.unit_of_work(write=False) as session:
        account = repo.get(session, account_id)
        if account is None or account.status != "active":
            raise ConnectorError("the account must be linked again", retryable=False, status=401)
        platform = account.platform
        access, refresh, expired = _access_token(session, account)
    connector = connector_for(platform)
    if expired or access is None:
        if refresh is None:
            raise ConnectorError("no refresh token", retryable=False, status=401)
        tokens = connector.refresh(refresh)
        with db.unit_of_work() as session:
            account = repo.get(session, account_id)
            if account is not None:
                _store_tokens(session, account, tokens)
        access = tokens.access_token
    return read(connector, access)


def sync_failures(db: Database, account_id: str) -> int:
    with db.unit_of_work(write=False) as session:
        account = repo.get(session, account_id)
        return account.sync_failures if account else 0


def accounts_due(db: Database, limit: int = 500) -> list[str]:
    with db.unit_of_work(write=False) as session:
        at = now()
        return list(repo.due_for_sync(session, at - SYNC_EVERY, at - RETRY_FAILING_AFTER, limit))
