"""Background jobs of the associations app."""

from __future__ import annotations

from celery.signals import worker_ready
from django.db import transaction
from django.utils import timezone

from associations.mail import build_message
from associations.models import Association, Invitation, WorkerHeartbeat
from associations.tasks_base import TenantTask
from cpts.celery import app


@app.task(base=TenantTask, bind=True)
def send_invitation_email(self, association: Association, invitation_id: int) -> str:
    """Send (or re-send) one invitation. The link is signed with the invitation's current nonce."""
    from associations.services import invitation_url

    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None or invitation.status != Invitation.Status.PENDING:
            return "skipped"
        message = build_message(
            association,
            "invitation",
            {
                "invitation": invitation,
                "url": invitation_url(invitation),
                "inviter": invitation.invited_by,
                "max_age_days": 7,
            },
            [invitation.email],
        )
        message.send()
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])
    return "sent"


@app.task
def heartbeat(name: str = "worker") -> None:
    """Run by beat every minute; /healthz reports how long ago it last ran."""
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})


@worker_ready.connect
def _heartbeat_on_start(sender=None, **kwargs) -> None:
    """Report the worker alive as soon as it starts, not a minute later."""
    heartbeat.delay()
