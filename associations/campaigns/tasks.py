"""Background jobs of campaigns: sending the outbox, the periodic sweep, the daily reminders. Thin adapters:
each calls one service (``outbox.send_due``, ``services.sweep``, ``reminders.queue_due_reminders``)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from associations import unscoped
from associations.campaigns import outbox, reminders, services
from associations.models import Association
from associations.tasks_base import TenantTask, for_each_association
from cpts.celery import app


@app.task(base=TenantTask, bind=True, autoretry_for=())
def send_outbox(self, association: Association) -> dict:
    """Send the association's due e-mails; come back when the rate limit or a retry delay says so.

    Safe to run twice at once: rows are claimed, and a claimed row is sent by one task only.
    """
    report = outbox.send_due(association)
    if report.remaining:
        _come_back(association, report.wait, eager=bool(self.request.is_eager))
    return {"sent": report.sent, "failed": report.failed, "retried": report.retried,
            "cancelled": report.cancelled, "remaining": report.remaining}


def _come_back(association: Association, wait: float, *, eager: bool) -> None:
    """Schedule one more sender for the rows left (rate limit, retry delay). At most one is waiting per
    association: each launch or test send starts a sender, and they must not each re-arm a chain. In eager
    mode (tests, CELERY_EAGER) the countdown would be ignored and recurse: the periodic sweep takes over."""
    countdown = max(int(wait) + 1, 1)
    if eager or not cache.add(f"outbox-armed:{association.pk}", 1, timeout=countdown):
        return
    send_outbox.apply_async(args=[association.pk], countdown=countdown)


@app.task(base=TenantTask, bind=True)
def sweep_association(self, association: Association) -> dict:
    return services.sweep(association)


@app.task
def outbox_sweep() -> int:
    """Every minute (beat): requeue rows stuck in a dead worker, launch scheduled campaigns, and make sure
    every association with due e-mails has a sender (a lost broker message cannot strand a row)."""
    now = timezone.now()
    ids = unscoped.associations_with_mail_work(now, now - timedelta(seconds=settings.OUTBOX_STUCK_SECONDS))
    return for_each_association(sweep_association, ids)


@app.task(base=TenantTask, bind=True)
def queue_reminders(self, association: Association) -> int:
    return reminders.queue_due_reminders(association)


@app.task
def queue_reminders_everywhere() -> int:
    """Daily (beat): one tenant task per association."""
    return for_each_association(queue_reminders)
