"""Demo campaigns of ``seed_demo``: a finished campaign whose figures look like a real send, a scheduled
one in the future, the reminder schedule; nothing sent, and a second run changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope

from associations.models import (
    Association,
    Campaign,
    CampaignStatus,
    MailStatus,
    Member,
    OutgoingMail,
    ReminderSchedule,
)

pytestmark = pytest.mark.django_db


def test_demo_campaigns(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=StringIO())
    big = Association.objects.get(slug="val-de-loire-sud")
    with scope(association=big):
        finished = Campaign.objects.get(status=CampaignStatus.LAUNCHED)
        scheduled = Campaign.objects.get(status=CampaignStatus.SCHEDULED)
        rows = OutgoingMail.objects.filter(campaign=finished)
        total = rows.count()
        assert total == finished.targeted_count > 300
        sent = rows.filter(status=MailStatus.SENT).count()
        failed = rows.filter(status=MailStatus.FAILED)
        assert 0 < failed.count() < total * 0.05 and sent + failed.count() == total
        assert all(row.last_error.startswith("550 ") for row in failed)
        opened = rows.exclude(opened_at=None).count()
        clicked = rows.exclude(clicked_at=None).count()
        assert sent * 0.4 < opened < sent * 0.75 and 0 < clicked < opened
        # The bounced addresses are marked invalid on the member page.
        bounced = Member.objects.filter(pk__in=failed.values("member_id"))
        assert all(member.email_invalid and member.email_bounce_reason for member in bounced)
        # Every row was rendered for its own member (personal links differ).
        assert rows.values("body_text").distinct().count() == total
        assert scheduled.scheduled_at > timezone.now()
        assert ReminderSchedule.objects.get().enabled
        counts = (Campaign.objects.count(), OutgoingMail.objects.count())
    assert mail.outbox == []  # demo data sends nothing

    call_command("seed_demo", stdout=StringIO())
    with scope(association=big):
        assert (Campaign.objects.count(), OutgoingMail.objects.count()) == counts
    small = Association.objects.get(slug="plateau-des-sources")
    with scope(association=small):
        assert not Campaign.objects.exists()
