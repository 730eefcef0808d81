"""Request and response shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from pappus.accounts.principal import SCOPES


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["brand", "creator"]
    email: EmailStr
    password: str = Field(min_length=10, max_length=128)
    display_name: str = Field(min_length=1, max_length=120)
    organization_name: str | None = Field(
        default=None, min_length=1, max_length=200, validate_default=True
    )

    @field_validator("organization_name")
    @classmethod
    def _brand_needs_organization(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "brand" and not value:
            raise ValueError("a brand account needs organization_name")
        if kind == "creator" and value:
            raise ValueError("creator accounts have no organization_name")
        return value


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str


class MembershipOut(BaseModel):
    organization_id: str
    organization_name: str
    role: str


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    kind: str
    display_name: str
    staff_role: str | None = None
    created_at: datetime


class Me(BaseModel):
    user: User | None
    kind: str
    memberships: list[MembershipOut] = []
    creator_id: str | None = None
    api_key_id: str | None = None
    scopes: list[str] | None = None


class RegisterResponse(BaseModel):
    user: User
    organization_id: str | None = None
    creator_id: str | None = None


class Organization(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: Literal["owner", "admin", "member", "viewer"] = "member"


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["owner", "admin", "member", "viewer"]


class Member(BaseModel):
    id: str
    user_id: str
    email: str
    display_name: str
    role: str
    created_at: datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES))

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; known: {sorted(SCOPES)}")
        return sorted(set(value))


class ApiKey(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The secret; shown once, store it now")
