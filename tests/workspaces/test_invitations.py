from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.roles import Role
from apps.workspaces import invitations
from apps.workspaces.models import Invitation, Membership
from tests.conftest import Cast
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _invite(cast: Cast, email: str = "new@acme.example", role: str = Role.EDITOR, **kwargs) -> Invitation:
    return invitations.invitation_create(
        workspace=cast.workspace, email=email, role=role, team=kwargs.get("team"), invited_by=cast.owner
    )


def test_invitation_create_emails_a_signed_link_after_commit(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(cast)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@acme.example"]
    assert "Acme Outdoor" in message.subject
    link = next(line for line in message.body.splitlines() if "/invitations/" in line)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitations.invitation_from_token(token) == invitation
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_invitation_email_waits_for_the_transaction_to_commit(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _invite(cast)

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_invitation_create_rejects_someone_who_is_already_a_member(cast: Cast) -> None:
    with pytest.raises(ValidationError) as error:
        _invite(cast, email="MEMBER@acme.example")

    assert "already a member" in str(error.value)


def test_inviting_again_withdraws_the_earlier_pending_invitation(cast: Cast) -> None:
    first = _invite(cast)
    second = _invite(cast, email="New@Acme.example")

    first.refresh_from_db()
    assert first.status == "revoked"
    assert second.status == "pending"


def test_invitation_create_rejects_a_team_of_another_workspace(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        _invite(cast, team=TeamFactory(workspace=cast.other_workspace))


def test_accepting_an_invitation_adds_the_member_with_its_role_and_team(cast: Cast) -> None:
    team = TeamFactory(workspace=cast.workspace, name="Field sales")
    invitation = _invite(cast, email="sam@acme.example", role=Role.APPROVER, team=team)
    user = UserFactory(email="Sam@acme.example")

    membership = invitations.invitation_accept(invitation=invitation, user=user)

    assert (membership.role, membership.team) == (Role.APPROVER, team)
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.accepted_by == user


def test_an_invitation_link_works_only_once(cast: Cast) -> None:
    invitation = _invite(cast, email="sam@acme.example")
    token = invitations.invitation_token(invitation)
    invitations.invitation_accept(invitation=invitation, user=UserFactory(email="sam@acme.example"))

    with pytest.raises(invitations.InvitationError, match="already used"):
        invitations.invitation_from_token(token)


def test_an_invitation_cannot_be_accepted_by_another_address(cast: Cast) -> None:
    invitation = _invite(cast, email="sam@acme.example")

    with pytest.raises(invitations.InvitationError, match=r"sent to sam@acme\.example"):
        invitations.invitation_accept(invitation=invitation, user=UserFactory(email="eve@evil.example"))

    assert not Membership.objects.filter(workspace=cast.workspace, user__email="eve@evil.example").exists()


def test_a_withdrawn_invitation_link_stops_working(cast: Cast) -> None:
    invitation = _invite(cast)
    invitations.invitation_revoke(invitation=invitation)

    with pytest.raises(invitations.InvitationError, match="withdrawn"):
        invitations.invitation_from_token(invitations.invitation_token(invitation))


def test_an_expired_invitation_link_stops_working(cast: Cast) -> None:
    invitation = _invite(cast)
    Invitation.objects.filter(id=invitation.id).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(invitations.InvitationError, match="expired"):
        invitations.invitation_from_token(invitations.invitation_token(invitation))


def test_a_tampered_invitation_link_is_rejected(cast: Cast) -> None:
    token = invitations.invitation_token(_invite(cast))

    with pytest.raises(invitations.InvitationError, match="not valid"):
        invitations.invitation_from_token(token[:-2] + "xx")


def test_accepting_as_a_new_user_creates_the_login_with_a_validated_password(cast: Cast) -> None:
    invitation = _invite(cast, email="new@acme.example")

    with pytest.raises(ValidationError):
        invitations.invitation_accept_as_new_user(
            invitation=invitation, account=invitations.NewAccount("Nia", "", "123")
        )
    user = invitations.invitation_accept_as_new_user(
        invitation=invitation, account=invitations.NewAccount("Nia", "Berg", "a-long-Passphrase-42")
    )

    assert user.check_password("a-long-Passphrase-42")
    assert Membership.objects.get(workspace=cast.workspace, user=user).role == Role.EDITOR


def test_sending_a_withdrawn_invitation_is_skipped(cast: Cast) -> None:
    invitation = _invite(cast)
    invitations.invitation_revoke(invitation=invitation)

    assert invitations.invitation_send_email(invitation_id=invitation.id) is False
    assert mail.outbox == []
