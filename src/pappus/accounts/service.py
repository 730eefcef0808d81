"""Accounts rules: registration, login and tokens, organizations, members and API keys."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pappus.accounts import repository as repo
from pappus.accounts.models import (
    ApiKey,
    AuthToken,
    Membership,
    Organization,
    OrgRole,
    StaffRole,
    User,
    UserKind,
)
from pappus.accounts.principal import Access, Principal
from pappus.accounts.security import digest, hash_password, new_secret, verify_password
from pappus.audit import service as audit
from pappus.config import get_settings
from pappus.creators import service as creators
from pappus.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from pappus.kit.clock import now


class EmailTaken(Conflict):
    code = "email_taken"
    title = "Email already registered"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    title = "Invalid credentials"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _insert_user(session: Session, user: User) -> None:
    # Uniqueness by constraint: two concurrent registrations cannot both win.
    try:
        with session.begin_nested():
            repo.add(session, user)
    except IntegrityError:
        raise EmailTaken(f"{user.email} is already registered", field="email") from None


def register(
    session: Session,
    *,
    kind: str,
    email: str,
    password: str,
    display_name: str,
    organization_name: str | None = None,
) -> tuple[User, Organization | None, str | None]:
    """Create a brand user with its organization (as owner), or a creator with a profile."""
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        kind=kind,
        display_name=display_name.strip(),
    )
    _insert_user(session, user)
    if kind == UserKind.brand:
        assert organization_name is not None
        org = Organization(name=organization_name.strip())
        repo.add(session, org)
        repo.add(session, Membership(organization_id=org.id, user_id=user.id, role=OrgRole.owner))
        return user, org, None
    profile_id = creators.create_profile(
        session, user_id=user.id, display_name=user.display_name, contact_email=user.email
    )
    return user, None, profile_id


def create_staff(
    session: Session, *, email: str, password: str, display_name: str, role: str
) -> User:
    if role not in set(StaffRole):
        raise InvalidInput(f"staff role must be one of {sorted(StaffRole)}", field="role")
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        kind=UserKind.staff,
        staff_role=role,
        display_name=display_name,
    )
    _insert_user(session, user)
    audit.record(
        session,
        "staff.created",
        "user",
        user.id,
        actor_kind="operator",
        data={"role": role},
    )
    return user


def _issue(session: Session, user_id: str, kind: str, ttl: timedelta) -> str:
    secret = new_secret("pat" if kind == "access" else "prt")
    repo.add(
        session,
        AuthToken(token_hash=digest(secret), user_id=user_id, kind=kind, expires_at=now() + ttl),
    )
    return secret


def issue_tokens(session: Session, user: User) -> tuple[str, str, int]:
    settings = get_settings()
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    access = _issue(session, user.id, "access", access_ttl)
    refresh = _issue(session, user.id, "refresh", timedelta(days=settings.refresh_token_days))
    return access, refresh, int(access_ttl.total_seconds())


def check_credentials(session: Session, email: str, password: str) -> str:
    """The user id for valid credentials. Run it in a reading session: argon2 takes a tenth
    of a second or more, and must not hold a write lock meanwhile."""
    user = repo.get_user_by_email(session, normalise_email(email))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials("email or password is wrong")
    if not user.is_active:
        raise InvalidCredentials("this account is disabled")
    return user.id


def login(session: Session, user_id: str) -> tuple[str, str, int]:
    """Issue tokens for a user whose credentials `check_credentials` accepted."""
    user = repo.get_user(session, user_id)
    if user is None or not user.is_active:
        raise InvalidCredentials("this account is disabled")
    return issue_tokens(session, user)


def refresh(session: Session, refresh_token: str) -> tuple[str, str, int]:
    """Rotate: the refresh token is spent and a new pair issued; a replay is refused."""
    found = repo.find_token(session, digest(refresh_token))
    if found is None or found[0].kind != "refresh":
        raise InvalidCredentials("refresh token is not valid")
    token, user = found
    if token.expires_at <= now() or not user.is_active:
        raise InvalidCredentials("refresh token has expired")
    if not repo.revoke_token(session, token.id, now()):
        raise InvalidCredentials("refresh token was already used")
    return issue_tokens(session, user)


def logout(session: Session, access_token: str) -> None:
    found = repo.find_token(session, digest(access_token))
    if found is not None:
        repo.revoke_token(session, found[0].id, now())


def principal_for_token(session: Session, secret: str) -> Principal:
    """Resolve a bearer secret: a user access token or an organization API key."""
    if secret.startswith("pk_"):
        return _principal_for_api_key(session, secret)
    holder = repo.find_token_with_roles(session, digest(secret))
    if holder is None or holder.token_kind != "access":
        raise Unauthenticated("the bearer token is not valid", code="invalid_token")
    if holder.revoked_at is not None or holder.expires_at <= now():
        raise Unauthenticated("the bearer token has expired or was revoked", code="token_expired")
    if not holder.is_active:
        raise Unauthenticated("this account is disabled", code="account_disabled")
    return _user_principal(session, holder, holder.roles)


def principal_for_user(session: Session, user: User) -> Principal:
    roles = {m.organization_id: m.role for m, _ in repo.memberships_of(session, user.id)}
    return _user_principal(session, user, roles)


def _user_principal(
    session: Session, user: User | repo.TokenHolder, roles: dict[str, str]
) -> Principal:
    creator_id = (
        creators.profile_id_for_user(session, user.id) if user.kind == UserKind.creator else None
    )
    return Principal(
        kind=user.kind,
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        staff_role=user.staff_role,
        creator_id=creator_id,
        roles=roles,
    )


def _principal_for_api_key(session: Session, secret: str) -> Principal:
    key = repo.find_api_key(session, digest(secret))
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("the API key is not valid or was revoked", code="invalid_api_key")
    return Principal(
        kind="api_key",
        api_key_id=key.id,
        display_name=key.name,
        # A key acts like a member of its organization, narrowed by its scopes.
        roles={key.organization_id: OrgRole.member},
        scopes=frozenset(key.scopes),
    )


def get_user_by_email(session: Session, email: str) -> User:
    user = repo.get_user_by_email(session, normalise_email(email))
    if user is None:
        raise NotFound("user not found")
    return user


def get_user(session: Session, user_id: str) -> User:
    user = repo.get_user(session, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def memberships(session: Session, user_id: str) -> list[tuple[Membership, Organization]]:
    return list(repo.memberships_of(session, user_id))


def get_organization(session: Session, principal: Principal, organization_id: str) -> Organization:
    principal.require_org(organization_id, Access.read, what="organization")
    org = repo.get_organization(session, organization_id)
    if org is None:
        raise NotFound("organization not found")
    return org


def rename_organization(
    session: Session, principal: Principal, organization_id: str, name: str
) -> Organization:
    _require_user(principal)
    principal.require_org(organization_id, Access.manage, what="organization")
    org = get_organization(session, principal, organization_id)
    org.name = name.strip()
    session.flush()
    return org


def _require_user(principal: Principal) -> None:
    if principal.user_id is None:
        raise Forbidden("API keys cannot manage organizations", code="user_only")


def list_members(
    session: Session, principal: Principal, organization_id: str, after_id: str | None, limit: int
) -> list[tuple[Membership, User]]:
    principal.require_org(organization_id, Access.read, "members:read", what="organization")
    return list(repo.members_of(session, organization_id, after_id=after_id, limit=limit))


def add_member(
    session: Session, principal: Principal, organization_id: str, email: str, role: str
) -> tuple[Membership, User]:
    _require_user(principal)
    principal.require_org(organization_id, Access.manage, what="organization")
    if role == OrgRole.owner:
        principal.require_org(organization_id, Access.own, what="organization")
    user = repo.get_user_by_email(session, normalise_email(email))
    if user is None:
        raise NotFound(f"no account is registered with {email}", code="user_not_found")
    if user.kind != UserKind.brand:
        raise InvalidInput("only brand accounts can join an organization", field="email")
    membership = Membership(organization_id=organization_id, user_id=user.id, role=role)
    try:
        with session.begin_nested():
            repo.add(session, membership)
    except IntegrityError:
        raise Conflict("that user is already a member", code="already_member") from None
    audit.record(
        session,
        "organization.member_added",
        "organization",
        organization_id,
        actor=principal,
        data={"user_id": user.id, "role": role},
    )
    return membership, user


def _membership_or_404(session: Session, organization_id: str, user_id: str) -> Membership:
    membership = repo.get_membership(session, organization_id, user_id)
    if membership is None:
        raise NotFound("member not found")
    return membership


def change_member_role(
    session: Session, principal: Principal, organization_id: str, user_id: str, role: str
) -> tuple[Membership, User]:
    _require_user(principal)
    principal.require_org(organization_id, Access.manage, what="organization")
    membership = _membership_or_404(session, organization_id, user_id)
    if OrgRole.owner in (role, membership.role):
        principal.require_org(organization_id, Access.own, what="organization")
    if membership.role == OrgRole.owner and role != OrgRole.owner:
        _keep_an_owner(session, organization_id)
    audit.record(
        session,
        "organization.member_role_changed",
        "organization",
        organization_id,
        actor=principal,
        data={"user_id": user_id, "from": membership.role, "to": role},
    )
    membership.role = role
    session.flush()
    user = repo.get_user(session, user_id)
    assert user is not None
    return membership, user


def _keep_an_owner(session: Session, organization_id: str) -> None:
    if repo.count_owners(session, organization_id) <= 1:
        raise Conflict("an organization must keep at least one owner", code="last_owner")


def remove_member(
    session: Session, principal: Principal, organization_id: str, user_id: str
) -> None:
    _require_user(principal)
    leaving_self = principal.user_id == user_id
    if not leaving_self:
        principal.require_org(organization_id, Access.manage, what="organization")
    membership = _membership_or_404(session, organization_id, user_id)
    if membership.role == OrgRole.owner:
        if not leaving_self:
            principal.require_org(organization_id, Access.own, what="organization")
        _keep_an_owner(session, organization_id)
    audit.record(
        session,
        "organization.member_removed",
        "organization",
        organization_id,
        actor=principal,
        data={"user_id": user_id, "role": membership.role},
    )
    repo.delete(session, membership)


def create_api_key(
    session: Session, principal: Principal, organization_id: str, name: str, scopes: list[str]
) -> tuple[ApiKey, str]:
    _require_user(principal)
    principal.require_org(organization_id, Access.manage, what="organization")
    secret = new_secret("pk_live", 32)
    key = ApiKey(
        organization_id=organization_id,
        name=name,
        prefix=secret[:12],
        key_hash=digest(secret),
        scopes=scopes,
        created_by=principal.user_id,
    )
    repo.add(session, key)
    audit.record(
        session,
        "organization.api_key_created",
        "organization",
        organization_id,
        actor=principal,
        data={"api_key_id": key.id, "name": name, "scopes": scopes},
    )
    return key, secret


def list_api_keys(
    session: Session, principal: Principal, organization_id: str, after_id: str | None, limit: int
) -> list[ApiKey]:
    _require_user(principal)
    principal.require_org(organization_id, Access.manage, what="organization")
    return list(repo.api_keys_of(session, organization_id, after_id=after_id, limit=limit))


def revoke_api_key(
    session: Session, principal: Principal, organization_id: str, key_id: str
) -> ApiKey:
    _require_user(principal)
    principal.require_org(organization_id, Access.manage, what="organization")
    key = repo.get_api_key(session, key_id)
    if key is None or key.organization_id != organization_id:
        raise NotFound("API key not found")
    if key.revoked_at is None:
        key.revoked_at = now()
        audit.record(
            session,
            "organization.api_key_revoked",
            "organization",
            organization_id,
            actor=principal,
            data={"api_key_id": key.id},
        )
        session.flush()
    return key
