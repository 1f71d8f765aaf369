"""Invitations: a signed, single-use, expiring link emailed through Celery.

The link carries the invitation id signed with the project's secret; the database row says whether
it is still pending, so revoking or accepting it kills the link at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.core.roles import Role
from apps.workspaces.models import Invitation, Membership, Team, Workspace, pending_invitation
from apps.workspaces.services import membership_add

SIGNING_SALT = "ensemble.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"invitation": invitation.id}, salt=SIGNING_SALT, compress=True)


def invitation_url(invitation: Invitation) -> str:
    path = reverse("invitation-accept", kwargs={"token": invitation_token(invitation)})
    return f"{settings.SITE_URL}{path}"


class InvitationError(Exception):
    """The link is tampered with, expired, revoked or already used; the message says which."""


def invitation_from_token(token: str) -> Invitation:
    max_age = timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=SIGNING_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise InvitationError("This invitation has expired. Ask for a new one.") from error
    except signing.BadSignature as error:
        raise InvitationError("This invitation link is not valid. Check that it was copied whole.") from error
    invitation = (
        Invitation.objects.select_related("workspace", "team", "invited_by")
        .filter(id=payload.get("invitation"))
        .first()
    )
    if invitation is None or invitation.status == "revoked":
        raise InvitationError("This invitation was withdrawn. Ask for a new one.")
    if invitation.status == "accepted":
        raise InvitationError("This invitation was already used. Log in to open the workspace.")
    if invitation.status == "expired":
        raise InvitationError("This invitation has expired. Ask for a new one.")
    return invitation


def _normalise_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


@transaction.atomic
def invitation_create(
    *, workspace: Workspace, email: str, role: str, team: Team | None, invited_by: User
) -> Invitation:
    """Invite someone by email. Re-inviting replaces the earlier pending invitation."""
    email = _normalise_email(email)
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role: use one of {', '.join(Role.values)}."})
    if team is not None and team.workspace_id != workspace.id:
        raise ValidationError({"team": "That team belongs to another workspace."})
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of this workspace."})
    Invitation.objects.filter(pending_invitation(), workspace=workspace, email__iexact=email).update(
        revoked_at=timezone.now()
    )
    invitation = Invitation(
        workspace=workspace,
        email=email,
        role=role,
        team=team,
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    _enqueue_invitation_email(invitation)
    return invitation


def _enqueue_invitation_email(invitation: Invitation) -> None:
    from apps.workspaces.tasks import send_invitation_email

    invitation_id = invitation.id
    transaction.on_commit(lambda: send_invitation_email.delay(invitation_id))


def invitation_resend(*, invitation: Invitation) -> Invitation:
    if invitation.status != "pending":
        raise ValidationError(f"This invitation is {invitation.status}; invite the person again instead.")
    _enqueue_invitation_email(invitation)
    return invitation


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    if invitation.status == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def invitation_send_email(*, invitation_id: int) -> bool:
    """Send (or resend) the email. Idempotent for the task: a no-longer-pending invitation is skipped."""
    invitation = Invitation.objects.select_related("workspace", "invited_by").filter(id=invitation_id).first()
    if invitation is None or invitation.status != "pending":
        return False
    context = {
        "invitation": invitation,
        "url": invitation_url(invitation),
        "inviter": invitation.invited_by.display_name if invitation.invited_by else "A colleague",
        "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
    }
    subject = render_to_string("workspaces/email/invitation_subject.txt", context).strip()
    body = render_to_string("workspaces/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at", "updated_at"])
    return True


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the workspace as the invited address. Locked so a double click cannot accept twice."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("workspace", "team")
        .get(id=invitation.id)
    )
    if invitation.status != "pending":
        raise InvitationError(f"This invitation is {invitation.status}.")
    if _normalise_email(user.email) != _normalise_email(invitation.email):
        raise InvitationError(
            f"This invitation was sent to {invitation.email}, but you are logged in as {user.email}. "
            "Log out and open the link again, or ask for an invitation to your address."
        )
    membership = membership_add(
        workspace=invitation.workspace, user=user, role=invitation.role, team=invitation.team
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


@dataclass(frozen=True)
class NewAccount:
    first_name: str
    last_name: str
    password: str


@transaction.atomic
def invitation_accept_as_new_user(*, invitation: Invitation, account: NewAccount) -> User:
    """Create the invited person's login, then accept. Fails if that email already has a login."""
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationError(f"{invitation.email} already has a login: log in to accept the invitation.")
    user = User(
        email=invitation.email, first_name=account.first_name.strip(), last_name=account.last_name.strip()
    )
    password_validation.validate_password(account.password, user)
    user.set_password(account.password)
    user.save()
    invitation_accept(invitation=invitation, user=user)
    return user
