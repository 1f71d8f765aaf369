"""The one sign-off check every scheduling and every delivery batch goes through.

Approvals stay generic: a target (e.g. "campaigns.channelitem:42") and the hash of its content, as
computed by the app that owns the content. They never import those apps.

Interim rule, until the co-editing and sign-off issue replaces this function's body with approvals
per required team: the content may be scheduled by an approver or an admin of the workspace, and
their scheduling signs off the content exactly as it is (the caller keeps the hash). Later checks
(each delivery batch) pass while the content still has the hash that was signed off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from apps.core.roles import Role

if TYPE_CHECKING:
    from apps.workspaces.models import Workspace


@dataclass(frozen=True)
class Clearance:
    cleared: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.cleared


def is_cleared(
    *,
    workspace: Workspace,
    target: str,
    content_hash: str,
    actor_role: str | None = None,
    signed_off_hash: str = "",
) -> Clearance:
    """May `target` with this content go out? With `actor_role`: someone asks to schedule it now.
    Without: a later check against the hash signed off when it was scheduled."""
    if actor_role is not None:
        if Role(actor_role).includes(Role.APPROVER):
            return Clearance(True)
        return Clearance(
            False,
            _("Scheduling needs sign-off: ask an approver or an admin of this workspace to schedule it."),
        )
    if signed_off_hash and signed_off_hash == content_hash:
        return Clearance(True)
    return Clearance(False, _("The content changed after it was signed off: it needs sign-off again."))
