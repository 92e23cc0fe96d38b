"""Matrix rows of the campaign screens (``/a/<slug>/campagnes/``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_scopes import scope

from associations.models import Campaign, CampaignStatus, MailKind, OutgoingMail
from tests.factories import make_member
from tests.tenancy.matrix_base import ALL, EDITORS, Case, audited, exists, row_is


def campaign_objects(association, users) -> dict:
    """A draft, a scheduled and a launched campaign (rows queued, not sent) to one member with an address."""
    from associations.campaigns import services

    member = make_member(association, first_name="Camille", last_name="Campagne", email="camille@example.org",
                         status="to_renew")
    data = {"name": "Relance", "kind": "renewal", "subject": "Votre adhésion", "body": "Bonjour {prenom},",
            "audience": {"status": "to_renew"}}
    coordinator = users["coordinator"]
    with scope(association=association):
        draft = services.save_campaign(association, coordinator, data)
        scheduled = services.save_campaign(association, coordinator, {**data, "name": "Programmée"})
        services.schedule_campaign(scheduled, coordinator, timezone.now() + timedelta(days=2))
        launched = services.save_campaign(association, coordinator, {**data, "name": "Lancée"})
        services.launch_campaign(launched, coordinator)
    return {"draft": draft.pk, "scheduled": scheduled.pk, "launched": launched.pk, "recipient": member.pk}


SETUP = campaign_objects


def _draft(o) -> dict:
    return {"pk": o["draft"]}


def _launched(o) -> dict:
    return {"pk": o["launched"]}


def _future(o) -> dict:
    return {"scheduled_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")}


# The test message goes to the caller's own address, rendered for the chosen member.
_TEST_MAIL = exists(OutgoingMail, kind=MailKind.TEST, campaign=lambda o: o["draft"], member=lambda o: o["recipient"],
                    to_email=lambda o: o["user"].email)


CASES = {
    "campaign_list": Case(ALL, setup=SETUP),
    "campaign_create": Case(EDITORS),
    "campaign_audience": Case(ALL, data={"kind": "renewal", "audience-status": "to_renew"}, setup=SETUP),
    "campaign_detail": Case(ALL, kwargs=_draft, setup=SETUP),
    "campaign_edit": Case(EDITORS, kwargs=_draft, setup=SETUP),
    "campaign_preview": Case(ALL, data=lambda o: {"member": o["recipient"]}, kwargs=_draft, setup=SETUP),
    "campaign_test_send": Case(EDITORS, "post", (302,), lambda o: {"member": o["recipient"]}, kwargs=_draft,
                               setup=SETUP, effect=(_TEST_MAIL, audited("campaign.test_send", "draft"))),
    "campaign_launch": Case(EDITORS, "post", (302,), kwargs=_draft, setup=SETUP,
                            effect=(row_is(Campaign, "draft", status=CampaignStatus.LAUNCHED),
                                    audited("campaign.launch", "draft"))),
    "campaign_schedule": Case(EDITORS, "post", (302,), _future, kwargs=_draft, setup=SETUP,
                              effect=(row_is(Campaign, "draft", status=CampaignStatus.SCHEDULED),
                                      audited("campaign.schedule", "draft"))),
    "campaign_unschedule": Case(EDITORS, "post", (302,), kwargs=lambda o: {"pk": o["scheduled"]}, setup=SETUP,
                                effect=(row_is(Campaign, "scheduled", status=CampaignStatus.DRAFT),
                                        audited("campaign.unschedule", "scheduled"))),
    "campaign_progress": Case(ALL, kwargs=_launched, setup=SETUP),
    "campaign_recipients": Case(ALL, kwargs=_launched, setup=SETUP),
}
