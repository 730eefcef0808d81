"""Who is calling: a user with their memberships, or an organization's API key with scopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from pappus.accounts.models import OrgRole, StaffRole, UserKind
from pappus.errors import Forbidden, NotFound

SCOPES: dict[str, str] = {
    "campaigns:read": "Read the organization's campaigns, applications and invitations",
    "campaigns:write": "Create and change campaigns; invite creators; decide on applications",
    "orders:read": "Read orders, drafts, metrics and events",
    "orders:write": "Review drafts, cancel orders and open disputes",
    "metrics:write": "Post metric snapshots for the organization's published orders",
    "members:read": "List the organization's members",
    "wallet:read": "Read the wallet, deposits and statements",
}


class Access(IntEnum):
    """What an action needs within an organization; roles grant up to a level."""

    read = 1
    write = 2
    manage = 3
    own = 4


ROLE_ACCESS: dict[str, Access] = {
    OrgRole.viewer: Access.read,
    OrgRole.member: Access.write,
    OrgRole.admin: Access.manage,
    OrgRole.owner: Access.own,
}


@dataclass(frozen=True)
class Principal:
    kind: str  # brand | creator | staff | api_key
    user_id: str | None = None
    email: str | None = None
    display_name: str | None = None
    staff_role: str | None = None
    creator_id: str | None = None
    api_key_id: str | None = None
    roles: dict[str, str] = field(default_factory=dict)  # organization id -> role
    scopes: frozenset[str] | None = None  # None: a user token, limited only by role

    @property
    def is_staff(self) -> bool:
        return self.kind == UserKind.staff

    @property
    def is_staff_admin(self) -> bool:
        return self.kind == UserKind.staff and self.staff_role == StaffRole.admin

    @property
    def actor_id(self) -> str:
        return self.user_id or self.api_key_id or "unknown"

    @property
    def idempotency_scope(self) -> str:
        return self.actor_id

    def has_scope(self, scope: str) -> bool:
        """A key's scope, where `x:write` also grants `x:read` (it reads what it acts on)."""
        if self.scopes is None or scope in self.scopes:
            return True
        return scope.endswith(":read") and scope.removesuffix(":read") + ":write" in self.scopes

    def can(self, organization_id: str, need: Access, scope: str | None = None) -> bool:
        role = self.roles.get(organization_id)
        if role is None:
            return False
        if scope is not None and not self.has_scope(scope):
            return False
        return ROLE_ACCESS[role] >= need

    def require_org(
        self,
        organization_id: str,
        need: Access,
        scope: str | None = None,
        *,
        what: str = "resource",
    ) -> None:
        """Raise NotFound for strangers (existence is not revealed) and Forbidden for members
        whose role or key scope falls short."""
        if organization_id not in self.roles:
            raise NotFound(f"{what} not found")
        if scope is not None and not self.has_scope(scope):
            raise Forbidden(f"this API key lacks the '{scope}' scope", code="missing_scope")
        if ROLE_ACCESS[self.roles[organization_id]] < need:
            raise Forbidden(
                f"your role '{self.roles[organization_id]}' cannot do this; "
                f"it needs {need.name} access",
                code="insufficient_role",
            )

    def require_creator(self) -> str:
        if self.kind != UserKind.creator or self.creator_id is None:
            raise Forbidden("only creator accounts can do this", code="creator_only")
        return self.creator_id

    def require_staff(self, *, admin: bool = False) -> None:
        if not self.is_staff:
            raise Forbidden("only platform staff can do this", code="staff_only")
        if admin and not self.is_staff_admin:
            raise Forbidden("only platform staff admins can do this", code="staff_admin_only")

    def default_organization(self, need: Access = Access.write) -> str:
        writable = [org for org, role in self.roles.items() if ROLE_ACCESS[role] >= need]
        if len(writable) == 1:
            return writable[0]
        if not self.roles:
            raise Forbidden("only brand members can do this", code="brand_only")
        raise Forbidden(
            "you belong to several organizations; say which with organization_id",
            code="organization_required",
        )
