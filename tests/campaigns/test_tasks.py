"""The Celery tasks of the outbox: a sender that cannot finish (rate limit, retry delay) comes back once,
not in a chain per launch, and never recurses when tasks run in-process; the sweep requeues a dead
worker's rows and launches due campaigns."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import tasks
from associations.models import CampaignStatus, MailStatus, OutgoingMail
from tests.campaigns.conftest import make_campaign, make_mail

pytestmark = pytest.mark.django_db


def test_eager_sender_left_with_rows_returns_instead_of_recursing(association, campaign_members):
    association.mail_rate_per_minute = 1
    association.save(update_fields=["mail_rate_per_minute"])
    for name in ("alice", "bruno", "msp"):
        make_mail(association, campaign_members[name])
    with mock.patch.object(tasks.send_outbox, "apply_async") as rearm:
        result = tasks.send_outbox.apply(args=[association.pk]).get()
    assert result["sent"] == 1 and result["remaining"] is True
    rearm.assert_not_called()  # in-process: the periodic sweep takes over
    assert len(mail.outbox) == 1


def test_a_real_sender_comes_back_once_per_association(association, campaign_members):
    with mock.patch.object(tasks.send_outbox, "apply_async") as rearm:
        tasks._come_back(association, 30, eager=False)
        tasks._come_back(association, 30, eager=False)  # a second sender finishing meanwhile
    rearm.assert_called_once_with(args=[association.pk], countdown=31)


def test_sweep_requeues_dead_claims_and_launches_due_campaigns(association, campaign_members, settings):
    settings.OUTBOX_STUCK_SECONDS = 60
    stuck = make_mail(association, campaign_members["alice"], status=MailStatus.SENDING, claim_token="dead",
                      claimed_at=timezone.now() - timedelta(minutes=5))
    campaign = make_campaign(association, status=CampaignStatus.SCHEDULED,
                             scheduled_at=timezone.now() - timedelta(minutes=1))
    result = tasks.sweep_association.apply(args=[association.pk]).get()
    assert result == {"requeued": 1, "launched": 1}
    with scope(association=association):
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.LAUNCHED
        # Eager here: the sweep's sender ran at once and sent the requeued row, exactly once.
        assert OutgoingMail.objects.get(pk=stuck.pk).status == MailStatus.SENT
        sent = OutgoingMail.objects.filter(status=MailStatus.SENT).count()
    assert sent == 4 and len(mail.outbox) == 4  # the stuck row and the campaign's three: each once
    assert tasks.outbox_sweep.apply().get() == 0  # nothing left to do anywhere
