"""Background jobs of the associations app: thin adapters that load a row and call one service."""

from __future__ import annotations

from celery.signals import worker_ready
from django.utils import timezone

from associations import services
from associations.models import Association, Invitation, WorkerHeartbeat
from associations.tasks_base import TenantTask
from cpts.celery import app


@app.task(base=TenantTask, bind=True)
def send_invitation_email(self, association: Association, invitation_id: int) -> str:
    """Send (or re-send) one invitation (an id of another association is not found: skipped)."""
    invitation = Invitation.objects.select_related("association").filter(pk=invitation_id).first()
    return services.send_invitation(invitation) if invitation else "skipped"


@app.task
def heartbeat(name: str = "worker") -> None:
    """Run by beat every minute; /healthz reports how long ago it last ran."""
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})


@worker_ready.connect
def _heartbeat_on_start(sender=None, **kwargs) -> None:
    """Report the worker alive as soon as it starts, not a minute later."""
    heartbeat.delay()
