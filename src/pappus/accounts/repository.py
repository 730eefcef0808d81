"""Every query of the accounts domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from pappus.accounts.models import ApiKey, AuthToken, Membership, Organization, User
from pappus.db import execute_prebuilt


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).first()


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def get_organization(session: Session, organization_id: str) -> Organization | None:
    return session.get(Organization, organization_id)


def memberships_of(session: Session, user_id: str) -> Sequence[tuple[Membership, Organization]]:
    rows = session.execute(
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.id)
    ).all()
    return [(m, o) for m, o in rows]


def members_of(
    session: Session, organization_id: str, *, after_id: str | None, limit: int
) -> Sequence[tuple[Membership, User]]:
    query = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id)
        .order_by(Membership.id.desc())
        .limit(limit + 1)
    )
    if after_id:
        query = query.where(Membership.id < after_id)
    return [(m, u) for m, u in session.execute(query).all()]


def get_membership(session: Session, organization_id: str, user_id: str) -> Membership | None:
    return session.scalars(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    ).first()


def count_owners(session: Session, organization_id: str) -> int:
    return int(
        session.scalar(
            select(func.count(Membership.id)).where(
                Membership.organization_id == organization_id, Membership.role == "owner"
            )
        )
        or 0
    )


def delete(session: Session, obj: object) -> None:
    session.delete(obj)
    session.flush()


def find_token(session: Session, token_hash: str) -> tuple[AuthToken, User] | None:
    row = session.execute(
        select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == token_hash)
    ).first()
    return (row[0], row[1]) if row else None


# Built once: building a statement and its cache key costs about 80 us, on every request.
@dataclass(frozen=True)
class TokenHolder:
    """The user holding an access or refresh token, and the token's state, as authentication
    needs them (the user's fields are named as `User`'s)."""

    token_kind: str
    expires_at: datetime
    revoked_at: datetime | None
    id: str
    kind: str
    email: str
    display_name: str
    staff_role: str | None
    is_active: bool
    roles: dict[str, str]  # organization id -> role


# Columns, not entities: it runs on every authenticated request, and loading the token and
# its user as ORM objects cost about 0.5 ms of CPU more than the row itself.
_TOKEN_WITH_ROLES = (
    select(
        AuthToken.kind,
        AuthToken.expires_at,
        AuthToken.revoked_at,
        User.id,
        User.kind,
        User.email,
        User.display_name,
        User.staff_role,
        User.is_active,
        Membership.organization_id,
        Membership.role,
    )
    .join(User, User.id == AuthToken.user_id)
    .outerjoin(Membership, Membership.user_id == User.id)
    .where(AuthToken.token_hash == bindparam("token_hash"))
    .order_by(Membership.id)
)


def find_token_with_roles(session: Session, token_hash: str) -> TokenHolder | None:
    """The token, its user and the user's role in each organization, in one query."""
    rows = execute_prebuilt(session, _TOKEN_WITH_ROLES, {"token_hash": token_hash})
    if not rows:
        return None
    kind, expires_at, revoked_at, user_id, user_kind, email, name, staff_role, active = rows[0][:9]
    return TokenHolder(
        token_kind=kind,
        expires_at=expires_at,
        revoked_at=revoked_at,
        id=user_id,
        kind=user_kind,
        email=email,
        display_name=name,
        staff_role=staff_role,
        is_active=bool(active),
        roles={row[9]: row[10] for row in rows if row[9] is not None},
    )


def revoke_token(session: Session, token_id: str, at: datetime) -> bool:
    """Revoke once; False when another request revoked it first (a refresh replay)."""
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


def find_api_key(session: Session, key_hash: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()


def get_api_key(session: Session, key_id: str) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def api_keys_of(
    session: Session, organization_id: str, *, after_id: str | None, limit: int
) -> Sequence[ApiKey]:
    query = (
        select(ApiKey)
        .where(ApiKey.organization_id == organization_id)
        .order_by(ApiKey.id.desc())
        .limit(limit + 1)
    )
    if after_id:
        query = query.where(ApiKey.id < after_id)
    return session.scalars(query).all()
