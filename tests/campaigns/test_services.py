"""Campaign services: audience counts and filters, launch into the outbox, scheduling, test sends, audit."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from django.core import signing
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import services, tokens
from associations.models import AuditLog, Campaign, CampaignStatus, College, MailKind, MailStatus, OutgoingMail
from associations.services import ServiceError
from tests.campaigns.conftest import make_campaign, settle

THIS_YEAR = timezone.localdate().year


def summary(association, kind="renewal", **audience):
    with scope(association=association):
        return services.summarize_audience(association, kind, audience)


def recipient_names(association, kind="renewal", **audience) -> set[str]:
    with scope(association=association):
        return {m.display_name for m in services.recipients_of(association, kind, audience)}


def matched_names(association, **audience) -> set[str]:
    with scope(association=association):
        return {m.display_name for m in services.matched_members(association, audience)}


def audit_actions(association) -> list[str]:
    with scope(association=association):
        return list(AuditLog.objects.filter(association=association).order_by("id").values_list("action", flat=True))


# --- Audience ------------------------------------------------------------------------------------


def test_summary_counts_every_reason_to_be_left_out(association, campaign_members):
    result = summary(association)
    # Without a status filter the resigned member is not matched; the other association's never is.
    assert result.matched == 6
    assert result.excluded == {"no_email": 1, "invalid_email": 1, "opted_out": 1}
    assert result.recipients == 3
    assert result.excluded_total == 3
    assert {m.display_name for m in result.sample} == {"Alice MARTIN", "Bruno PETIT", "MSP du Lac"}
    assert dict(result.excluded_display()) == {"sans adresse e-mail": 1, "adresse invalide (rebond)": 1,
                                               "désinscrits": 1}


def test_information_letters_need_newsletter_consent(association, campaign_members):
    result = summary(association, kind="info")
    # Bruno did not accept information letters: counted apart from the opted out, not sent.
    assert result.excluded == {"no_email": 1, "invalid_email": 1, "opted_out": 1, "no_consent": 1}
    assert ("sans accord pour les lettres d'information", 1) in result.excluded_display()
    assert result.recipients == 2
    assert recipient_names(association, kind="info") == {"Alice MARTIN", "MSP du Lac"}
    assert recipient_names(association, kind="renewal") == {"Alice MARTIN", "Bruno PETIT", "MSP du Lac"}


def test_summary_costs_three_queries_whatever_the_audience(association, campaign_members, django_assert_num_queries):
    with scope(association=association), django_assert_num_queries(3):
        # 1. the directory filter's city choices, 2. the counts (one aggregate), 3. the sample with professions
        result = services.summarize_audience(association, "renewal", {})
        [m.profession for m in result.sample]


def test_directory_filters_are_honoured(association, campaign_members):
    people = campaign_members
    assert matched_names(association, status="resigned") == {"Rémi DÉMISSION"}
    assert matched_names(association, profession=str(people["nurse"].pk)) == {"Bruno PETIT"}
    assert matched_names(association, college=str(people["liberal"].pk)) == {"Alice MARTIN", "Bruno PETIT"}
    assert matched_names(association, city="Amboise") == {"Bruno PETIT"}
    assert matched_names(association, kind="structure") == {"MSP du Lac"}
    settle(people["alice"], date(THIS_YEAR, 1, 1), date(THIS_YEAR, 12, 31))
    settle(people["bruno"], date(THIS_YEAR - 1, 1, 1), date(THIS_YEAR - 1, 12, 31))
    assert matched_names(association, period=str(THIS_YEAR)) == {"Alice MARTIN"}
    assert matched_names(association, period=str(THIS_YEAR - 1)) == {"Bruno PETIT"}
    # Unknown keys are ignored rather than breaking the campaign.
    assert len(matched_names(association, nonsense="x")) == 6


def test_another_associations_members_never_appear(association, other_association, campaign_members):
    # The foreign member has the same address and city as Alice.
    for audience in ({}, {"city": "Tours"}, {"q": "Alice"}, {"q": "alice@exemple.fr"}):
        with scope(association=association):
            ids = set(services.matched_members(association, audience).values_list("id", flat=True))
        assert campaign_members["foreign"].pk not in ids
    assert summary(association, q="Ailleurs").matched == 0


def test_a_college_of_another_association_is_an_error(association, other_association, coordinator, campaign_members):
    with scope(association=other_association):
        foreign_college = College.objects.create(association=other_association, name="Collège d'ailleurs")
    audience = {"college": str(foreign_college.pk)}
    with scope(association=association):
        assert "college" in services.audience_errors(association, audience)
        with pytest.raises(ServiceError, match="filtres de l'audience sont invalides"):
            services.matched_members(association, audience)
        with pytest.raises(ServiceError, match="filtres de l'audience sont invalides"):
            services.save_campaign(association, coordinator, {"name": "X", "kind": "renewal", "subject": "Objet",
                                                              "body": "Texte", "audience": audience})
        assert not Campaign.objects.filter(association=association).exists()


def test_save_campaign_refuses_an_unknown_placeholder(association, coordinator):
    with scope(association=association), pytest.raises(ServiceError, match=r"Champ inconnu : \{prénom\}"):
        services.save_campaign(association, coordinator, {"name": "X", "kind": "renewal", "subject": "Objet",
                                                          "body": "Bonjour {prénom}", "audience": {}})


def test_save_campaign_creates_then_updates_with_audit(association, coordinator):
    with scope(association=association):
        campaign = services.save_campaign(association, coordinator, {
            "name": "Printemps", "kind": "info", "subject": "Objet", "body": "Texte", "audience": {"city": ""}})
        services.save_campaign(association, coordinator, {"subject": "Nouvel objet"}, campaign=campaign)
        campaign.refresh_from_db()
        assert campaign.subject == "Nouvel objet"
        assert campaign.created_by == coordinator
    assert audit_actions(association) == ["campaign.create", "campaign.update"]


# --- Launch --------------------------------------------------------------------------------------


def launch(campaign, actor):
    with scope(association=campaign.association):
        return services.launch_campaign(campaign, actor)


def rows_of(campaign):
    with scope(association=campaign.association):
        return list(OutgoingMail.objects.filter(campaign=campaign).select_related("member").order_by("member_id"))


def test_launch_creates_one_rendered_row_per_recipient(association, campaign_members, coordinator, settings):
    settings.SITE_URL = "https://cpts.example.org"
    campaign = make_campaign(association, subject="{prenom}, votre adhésion à {association}",
                             body="Bonjour {prenom} {nom},\n\nAvant le {date_limite} : {lien_renouvellement}\n\n"
                                  "Cotisation : {montant}.",
                             deadline=date(2026, 3, 31))
    assert launch(campaign, coordinator) == 3
    rows = rows_of(campaign)
    assert {row.member.display_name for row in rows} == {"Alice MARTIN", "Bruno PETIT", "MSP du Lac"}
    assert all(row.kind == MailKind.CAMPAIGN and row.status == MailStatus.QUEUED for row in rows)
    by_name = {row.member.display_name: row for row in rows}
    alice, msp = by_name["Alice MARTIN"], by_name["MSP du Lac"]
    assert alice.to_email == "alice@exemple.fr"
    assert alice.subject == "Alice, votre adhésion à CPTS Alpha"
    assert msp.subject == ", votre adhésion à CPTS Alpha"  # a structure has no first name
    assert "Bonjour Alice Martin," in alice.body_text
    assert "Avant le 31 mars 2026" in alice.body_text
    assert "Cotisation : 30,00\u00a0€." in alice.body_text            # person tariff
    assert "Cotisation : 100,00\u00a0€." in msp.body_text             # structure tariff
    assert "Bonjour  MSP du Lac," in msp.body_text
    assert "Cotisation : 30,00\u00a0€" in alice.body_html and "31 mars 2026" in alice.body_html
    # A personal renewal link per member, in both versions.
    links = {}
    for row in rows:
        (link,) = {u for u in row.body_text.split() if "/renouveler/" in u}
        assert link.startswith("https://cpts.example.org/p/alpha/renouveler/")
        assert f'href="{link}"' in row.body_html
        links[row.member_id] = link
    assert len(set(links.values())) == 3

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED
    assert campaign.targeted_count == 3
    assert campaign.excluded == {"no_email": 1, "invalid_email": 1, "opted_out": 1}
    assert campaign.launched_by == coordinator and campaign.launched_at is not None


def test_launch_sets_the_list_headers(association, campaign_members, coordinator, settings):
    settings.SITE_URL = "https://cpts.example.org"
    association.contact_email = "contact@cpts-alpha.fr"
    association.save()
    campaign = make_campaign(association)
    launch(campaign, coordinator)
    row = next(row for row in rows_of(campaign) if row.member.first_name == "Alice")
    headers = row.headers
    assert headers["From"] == "CPTS Alpha <noreply@cpts.localhost>"
    assert headers["Reply-To"] == "contact@cpts-alpha.fr"
    assert headers["List-Id"] == f"CPTS Alpha <alpha.{association.pk}.cpts>"
    assert headers["Message-ID"] == f"<{row.uid}.{association.pk}@cpts.localhost>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mailto, https = [part.strip().strip("<>") for part in headers["List-Unsubscribe"].split(",")]
    assert mailto.startswith("mailto:contact@cpts-alpha.fr?subject=unsubscribe%20")
    assert https.startswith("https://cpts.example.org/p/alpha/e/desinscription/")
    token = https.rstrip("/").rpartition("/")[2]
    assert unquote(mailto.partition("subject=")[2]) == "unsubscribe " + token
    data, problem = tokens.read_unsubscribe_token(association.pk, token)
    assert problem is None and data["m"] == row.member_id and "t" not in data
    # The body carries the same unsubscribe link.
    assert https in row.body_text and https in row.body_html


def test_a_second_launch_is_refused_and_creates_nothing(association, campaign_members, coordinator):
    campaign = make_campaign(association)
    launch(campaign, coordinator)
    with pytest.raises(ServiceError, match="déjà lancée"):
        launch(campaign, coordinator)
    assert len(rows_of(campaign)) == 3
    assert audit_actions(association).count("campaign.launch") == 1


def test_an_empty_audience_cannot_be_launched(association, campaign_members, coordinator):
    campaign = make_campaign(association, audience={"city": "Amboise", "profession": str(campaign_members["nurse"].pk),
                                                    "q": "personne"})
    with pytest.raises(ServiceError, match="L'audience est vide"):
        launch(campaign, coordinator)
    assert rows_of(campaign) == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert audit_actions(association) == []


def test_an_audience_of_excluded_members_only_is_empty(association, campaign_members, coordinator):
    campaign = make_campaign(association, audience={"q": "Oscar"})  # matched, but opted out
    with pytest.raises(ServiceError, match="L'audience est vide"):
        launch(campaign, coordinator)
    assert rows_of(campaign) == []


def test_date_limite_without_deadline_is_refused(association, campaign_members, coordinator):
    campaign = make_campaign(association, body="Avant le {date_limite}.")
    with pytest.raises(ServiceError, match=r"\{date_limite\} : indiquez la date limite"):
        launch(campaign, coordinator)
    with pytest.raises(ServiceError, match="indiquez la date limite"), scope(association=association):
        services.schedule_campaign(campaign, coordinator, timezone.now() + timedelta(hours=1))
    assert rows_of(campaign) == []


def test_montant_without_tariff_is_refused_naming_the_category(association, campaign_members, coordinator):
    from associations.models import Tariff

    with scope(association=association):
        Tariff.objects.filter(association=association, category="structure").delete()
    campaign = make_campaign(association)
    with pytest.raises(ServiceError, match="« structure »"):
        launch(campaign, coordinator)
    assert rows_of(campaign) == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


# --- Scheduling ----------------------------------------------------------------------------------


def test_scheduled_campaign_is_launched_when_due_and_not_before(association, campaign_members, coordinator):
    campaign = make_campaign(association)
    when = timezone.now() + timedelta(hours=2)
    with scope(association=association):
        services.schedule_campaign(campaign, coordinator, when)
        assert services.launch_due_campaigns(association, now=when - timedelta(minutes=1)) == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED and rows_of(campaign) == []
    with scope(association=association):
        assert services.launch_due_campaigns(association, now=when + timedelta(seconds=1)) == 1
        assert services.launch_due_campaigns(association, now=when + timedelta(minutes=1)) == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED
    assert campaign.launched_by is None
    assert len(rows_of(campaign)) == 3
    assert audit_actions(association) == ["campaign.schedule", "campaign.launch"]


def test_schedule_in_the_past_is_refused(association, campaign_members, coordinator):
    campaign = make_campaign(association)
    with scope(association=association), pytest.raises(ServiceError, match="date et une heure à venir"):
        services.schedule_campaign(campaign, coordinator, timezone.now() - timedelta(minutes=1))


def test_schedule_writes_an_audit_row_and_unschedule_too(association, campaign_members, coordinator):
    campaign = make_campaign(association)
    with scope(association=association):
        services.schedule_campaign(campaign, coordinator, timezone.now() + timedelta(days=1))
        services.unschedule_campaign(campaign, coordinator)
        log = AuditLog.objects.get(association=association, action="campaign.schedule")
    assert log.actor == coordinator and log.target_id == str(campaign.pk) and "scheduled_at" in log.changes
    assert audit_actions(association) == ["campaign.schedule", "campaign.unschedule"]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and campaign.scheduled_at is None


def test_scheduled_campaign_whose_audience_became_empty_goes_back_to_draft(association, campaign_members,
                                                                           coordinator):
    campaign = make_campaign(association, audience={"city": "Amboise"})
    when = timezone.now() + timedelta(hours=1)
    with scope(association=association):
        services.schedule_campaign(campaign, coordinator, when)
        # Bruno, the only recipient, unsubscribes before the time comes.
        services.unsubscribe(campaign_members["bruno"], via="link")
        assert services.launch_due_campaigns(association, now=when + timedelta(minutes=1)) == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.last_error.startswith("L'audience est vide")
    assert rows_of(campaign) == []
    with scope(association=association):
        failure = AuditLog.objects.get(association=association, action="campaign.launch_failed")
    assert failure.target_id == str(campaign.pk) and failure.actor is None
    assert "L'audience est vide" in failure.changes["error"]


# --- Test send -----------------------------------------------------------------------------------


def test_send_test_queues_a_test_row_to_the_actor(association, campaign_members, coordinator):
    campaign = make_campaign(association)
    with scope(association=association):
        row = services.send_test(campaign, coordinator)
    assert row.kind == MailKind.TEST and row.status == MailStatus.QUEUED
    assert row.to_email == coordinator.email
    assert row.member == campaign_members["alice"]  # the first recipient
    assert row.subject == "[TEST] Votre adhésion à CPTS Alpha"
    url = row.headers["List-Unsubscribe"].split(",")[1].strip().strip("<>")
    data, problem = tokens.read_unsubscribe_token(association.pk, url.rstrip("/").rpartition("/")[2])
    assert problem is None and data["t"] == 1
    assert url in row.body_text
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT  # a test send launches nothing
    assert audit_actions(association) == ["campaign.test_send"]


def test_send_test_for_a_chosen_member_and_without_address(association, campaign_members, coordinator):
    campaign = make_campaign(association)
    with scope(association=association):
        row = services.send_test(campaign, coordinator, member=campaign_members["msp"])
    assert "100,00\u00a0€" in row.body_text
    coordinator.email = ""
    with scope(association=association), pytest.raises(ServiceError, match="pas d'adresse e-mail"):
        services.send_test(campaign, coordinator)


def test_preview_signs_a_test_token(association, campaign_members):
    campaign = make_campaign(association, track_opens=True, track_clicks=True, body="https://exemple.fr")
    with scope(association=association):
        fields = services.preview(campaign, campaign_members["bruno"])
        assert not OutgoingMail.objects.exists()
    assert "/e/o/" not in fields["body_html"] and "/e/c/" not in fields["body_html"]
    token = fields["headers"]["List-Unsubscribe"].split(",")[1].strip().strip("<>").rstrip("/").rpartition("/")[2]
    assert signing.loads(token, salt=tokens.UNSUBSCRIBE_SALT)["t"] == 1


def test_a_campaign_launched_meanwhile_by_another_sweep_is_not_reported_as_failed(association, campaign_members,
                                                                                    coordinator, monkeypatch):
    campaign = make_campaign(association)
    when = timezone.now() + timedelta(hours=1)
    with scope(association=association):
        services.schedule_campaign(campaign, coordinator, when)
    original = services.launch_campaign

    def raced(campaign, actor, request=None):
        original(campaign, actor)          # the other sweep wins the row lock first…
        return original(campaign, actor)   # …so this one finds it launched

    monkeypatch.setattr(services, "launch_campaign", raced)
    with scope(association=association):
        assert services.launch_due_campaigns(association, now=when + timedelta(seconds=1)) == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED and campaign.last_error == ""
    assert "campaign.launch_failed" not in audit_actions(association)
    assert len(rows_of(campaign)) == 3
