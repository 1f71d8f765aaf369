"""API tokens: created once (the key is shown a single time), stored as a SHA-256, revocable.

A key is `ens_<prefix>_<secret>`. The prefix identifies a token in lists and logs without revealing
it; the secret has 256 bits of entropy, so a fast hash is enough (no password-style stretching).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.roles import Role
from apps.workspaces.models import ApiToken, Membership, Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User

KEY_PREFIX = "ens_"
# Writing last_used_at on every request would turn each API read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *, workspace: Workspace, name: str, role: str, created_by: User | None, creator_role: Role | None
) -> IssuedToken:
    """Issue a token. A member cannot issue a token stronger than their own role."""
    if not name.strip():
        raise ValidationError({"name": "Give the token a name, e.g. the integration that will use it."})
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role: use one of {', '.join(Role.values)}."})
    if creator_role is not None and not creator_role.includes(Role(role)):
        raise ValidationError({"role": "You cannot create a token with a higher role than your own."})
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        workspace=workspace,
        name=name.strip(),
        role=role,
        prefix=prefix,
        key_hash=hash_key(key),
        created_by=created_by,
    )
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_tokens_revoke_for_user(*, workspace: Workspace, user: User) -> int:
    return ApiToken.objects.filter(workspace=workspace, created_by=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@dataclass(frozen=True)
class AuthenticatedToken:
    """A presented key that checks out, with the role it may act with right now."""

    token: ApiToken
    role: Role


def api_token_authenticate(*, key: str) -> AuthenticatedToken | None:
    """The active token for a presented key, or None. Records when it was last used.

    A token acts with the lower of its own role and its creator's current role, and dies with the
    creator's membership: demoting or removing a person (even through the admin) reaches their keys.
    """
    if not key.startswith(KEY_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("workspace", "created_by")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True, created_by__is_active=True)
        .first()
    )
    if token is None:
        return None
    creator_role = (
        Membership.objects.filter(workspace_id=token.workspace_id, user=token.created_by)
        .values_list("role", flat=True)
        .first()
    )
    if creator_role is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
    role = min(Role(token.role), Role(creator_role), key=lambda r: r.rank)
    return AuthenticatedToken(token=token, role=role)
