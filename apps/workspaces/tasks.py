from __future__ import annotations

from celery import shared_task

from apps.workspaces import invitations


@shared_task(
    name="workspaces.send_invitation_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_invitation_email(invitation_id: int) -> bool:
    """Thin wrapper: SMTP outages (OSError) retry with backoff; the service is idempotent."""
    return invitations.invitation_send_email(invitation_id=invitation_id)
