"""The coordinator's campaign screens: form (placeholders, audience from the directory filters), audience
count and sample, preview, test send, launch and schedule, funnel, recipients list and export, query counts.
Owner (coordinator), viewer (read-only) and outsider (another association) in every area."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import services
from associations.membership import services as membership_services
from associations.models import (
    AuditLog,
    Campaign,
    CampaignStatus,
    MailKind,
    MailStatus,
    Membership,
    MembershipStatus,
    OutgoingMail,
    Profession,
    Role,
)
from tests.factories import make_member, set_tariffs

BODY = "Bonjour {prenom} {nom},\n\nVotre cotisation : {montant}.\n\n{lien_renouvellement}\n\n**Merci** !"


def url(association, name, **kwargs) -> str:
    return reverse(name, kwargs={"association_slug": association.slug, **kwargs})


def make_campaign(association, actor, **data) -> Campaign:
    values = {"name": "Renouvellement 2026", "kind": "renewal", "subject": "Votre adhésion à {association}",
              "body": BODY, "audience": {"status": "to_renew"}}
    values.update(data)
    with scope(association=association):
        return services.save_campaign(association, actor, values)


def rows_of(association, campaign) -> list[OutgoingMail]:
    with scope(association=association):
        return list(OutgoingMail.objects.filter(campaign=campaign, kind=MailKind.CAMPAIGN).order_by("id"))


@pytest.fixture
def people(association, other_association):
    """Members to renew with and without an address, opted out, bounced; a member already up to date;
    a member of another association."""
    set_tariffs(association)
    nurse = Profession.objects.get(code="infirmier")
    return {
        "claire": make_member(association, first_name="Claire", last_name="Martin", email="claire@exemple.fr",
                              status="to_renew"),
        "bruno": make_member(association, first_name="Bruno", last_name="Petit", email="bruno@exemple.fr",
                             status="to_renew", profession=nurse, newsletter_consent=True),
        "noemail": make_member(association, first_name="Sans", last_name="Adresse", email="", status="to_renew"),
        "optout": make_member(association, first_name="Désinscrit", last_name="Durand", email="d@exemple.fr",
                              status="to_renew", mail_opt_out_at=timezone.now()),
        "bounced": make_member(association, first_name="Rebond", last_name="Roux", email="r@exemple.fr",
                               status="to_renew", email_invalid=True),
        "uptodate": make_member(association, first_name="Ajour", last_name="Alain", email="a@exemple.fr",
                                status="up_to_date"),
        "foreign": make_member(other_association, first_name="Claire", last_name="Ailleurs",
                               email="ailleurs@exemple.fr", status="to_renew"),
        "nurse": nurse,
    }


def form_data(**overrides) -> dict:
    data = {"name": "Relance de printemps", "kind": "renewal", "subject": "Votre adhésion à {association}",
            "body": BODY, "deadline": "", "audience-status": "to_renew"}
    data.update(overrides)
    return data


# --- Create and edit -----------------------------------------------------------------------------


def test_new_renewal_campaign_defaults_to_members_to_renew(coordinator_client, association, people):
    response = coordinator_client.get(url(association, "campaign_create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<option value="to_renew" selected>', html)
    assert "{lien_renouvellement}" in html  # the placeholders are listed next to the body
    assert 'hx-include="[name^=\'audience-\'], [name=\'kind\']"' in html
    # Count and sample of the default audience: Claire and Bruno (no address, opted out, bounced left out).
    assert re.search(r'id="audience-count">2<', html)
    assert "claire@exemple.fr" in html and "bruno@exemple.fr" in html


def test_unknown_placeholder_is_refused_naming_it(coordinator_client, association, people):
    response = coordinator_client.post(url(association, "campaign_create"),
                                       form_data(body="Bonjour {prénom}, payez {montant}."))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Champ inconnu : {prénom}" in html
    assert re.search(r'id="id_body_errors">\s*<div>Champ inconnu', html)
    with scope(association=association):
        assert not Campaign.objects.exists()


def test_unknown_placeholder_in_the_subject_is_shown_next_to_the_subject(coordinator_client, association, people):
    response = coordinator_client.post(url(association, "campaign_create"), form_data(subject="Hello {name}"))
    assert response.status_code == 200
    assert re.search(r'id="id_subject_errors">\s*<div>Champ inconnu : \{name\}', response.content.decode())
    with scope(association=association):
        assert not Campaign.objects.exists()


def test_deadline_placeholder_needs_a_deadline(coordinator_client, association, people):
    response = coordinator_client.post(url(association, "campaign_create"),
                                       form_data(body="Avant le {date_limite}, {prenom}."))
    assert re.search(r'id="id_deadline_errors">\s*<div>Le message utilise \{date_limite\}', response.content.decode())
    with scope(association=association):
        assert not Campaign.objects.exists()


def test_create_stores_the_campaign_with_its_audience(coordinator_client, association, people):
    nurse = people["nurse"]
    response = coordinator_client.post(url(association, "campaign_create"), form_data(
        **{"audience-profession": str(nurse.pk), "audience-q": "  ", "deadline": "2026-03-31",
           "track_clicks": "on"}))
    with scope(association=association):
        campaign = Campaign.objects.get()
        assert AuditLog.objects.filter(action="campaign.create", target_id=str(campaign.pk)).exists()
    assert response.status_code == 302
    assert response["Location"] == url(association, "campaign_detail", pk=campaign.pk)
    assert campaign.audience == {"profession": str(nurse.pk), "status": "to_renew"}
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.track_clicks and not campaign.track_opens
    assert campaign.deadline.isoformat() == "2026-03-31"
    assert campaign.created_by.email == "coordinator@alpha.example.org"


def test_audience_of_another_association_is_refused(coordinator_client, association, other_association, people):
    from associations.models import College

    with scope(association=other_association):
        foreign_college = College.objects.create(association=other_association, name="Ailleurs")
    response = coordinator_client.post(url(association, "campaign_create"),
                                       form_data(**{"audience-college": str(foreign_college.pk)}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Les filtres de l'audience sont invalides" in html
    assert 'id="id_audience-college_errors"' in html
    with scope(association=association):
        assert not Campaign.objects.exists()


def test_edit_a_draft(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    response = coordinator_client.get(url(association, "campaign_edit", pk=campaign.pk))
    assert response.status_code == 200
    assert 'value="Renouvellement 2026"' in response.content.decode()
    response = coordinator_client.post(url(association, "campaign_edit", pk=campaign.pk),
                                       form_data(name="Nouveau nom", **{"audience-status": "", "audience-city": ""}))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Nouveau nom"
    assert campaign.audience == {}


def test_launched_campaign_cannot_be_edited(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    with scope(association=association):
        services.launch_campaign(campaign, coordinator)
    response = coordinator_client.get(url(association, "campaign_edit", pk=campaign.pk), follow=True)
    assert "Cette campagne est déjà lancée : elle ne peut plus être modifiée." in response.content.decode()
    response = coordinator_client.post(url(association, "campaign_edit", pk=campaign.pk), form_data(name="Changé"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Renouvellement 2026"


def test_campaign_of_another_association_is_a_404(coordinator_client, association, other_association, users):
    foreign = make_campaign(other_association, users["outsider"])
    for name in ("campaign_detail", "campaign_edit", "campaign_recipients", "campaign_progress", "campaign_preview"):
        assert coordinator_client.get(url(association, name, pk=foreign.pk)).status_code == 404
    for name in ("campaign_launch", "campaign_test_send", "campaign_unschedule"):
        assert coordinator_client.post(url(association, name, pk=foreign.pk)).status_code == 404
    with scope(association=other_association):
        assert not OutgoingMail.objects.exists()


# --- Audience --------------------------------------------------------------------------------------


def test_audience_partial_counts_recipients_and_exclusions(coordinator_client, association, people):
    response = coordinator_client.get(url(association, "campaign_audience"),
                                      {"kind": "renewal", "audience-status": "to_renew"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a partial
    assert re.search(r'id="audience-count">2<', html)
    assert "5 adhérent(s) correspondent aux filtres" in html
    excluded = re.search(r'<ul class="mb-2" id="audience-excluded">(.*?)</ul>', html, re.S).group(1)
    assert "1 sans adresse e-mail" in excluded
    assert "1 adresse invalide (rebond)" in excluded
    assert "1 désinscrits" in excluded
    assert "Ailleurs" not in html and "a@exemple.fr" not in html


def test_audience_partial_for_an_information_letter_needs_consent(coordinator_client, association, people):
    response = coordinator_client.get(url(association, "campaign_audience"),
                                      {"kind": "info", "audience-status": "to_renew"})
    html = response.content.decode()
    assert re.search(r'id="audience-count">1<', html)  # only Bruno accepts information letters
    assert "bruno@exemple.fr" in html and "claire@exemple.fr" not in html
    assert "1 désinscrits" in html and "1 sans accord pour les lettres d&#x27;information" in html


def test_audience_partial_with_invalid_filters(coordinator_client, association, people):
    response = coordinator_client.get(url(association, "campaign_audience"), {"audience-period": "deux-mille"})
    assert response.status_code == 200
    assert "Les filtres de l'audience sont invalides" in response.content.decode()


# --- Preview and test send -----------------------------------------------------------------------


def test_preview_for_a_chosen_member(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    response = coordinator_client.get(url(association, "campaign_preview", pk=campaign.pk),
                                      {"member": people["bruno"].pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Votre adhésion à CPTS Alpha" in html
    assert "<iframe sandbox srcdoc=" in html
    # The HTML body is escaped inside the attribute, never injected into the page.
    assert "&lt;strong&gt;Merci&lt;/strong&gt;" in html
    assert "Bonjour Bruno Petit" in html  # the text version
    assert "30,00" in html  # {montant}


def test_preview_without_a_member_uses_the_first_recipient(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    response = coordinator_client.get(url(association, "campaign_preview", pk=campaign.pk))
    assert response.status_code == 200
    assert "Bonjour Claire Martin" in response.content.decode()


def test_preview_for_a_member_of_another_association_is_a_404(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    preview = url(association, "campaign_preview", pk=campaign.pk)
    assert coordinator_client.get(preview, {"member": people["foreign"].pk}).status_code == 404
    assert coordinator_client.get(preview, {"member": "abc"}).status_code == 404
    assert coordinator_client.get(preview, {"member": "999999"}).status_code == 404


def test_preview_shows_a_missing_tariff_as_an_error(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    with scope(association=association):
        from associations.models import Tariff

        Tariff.objects.filter(association=association).delete()
    response = coordinator_client.get(url(association, "campaign_preview", pk=campaign.pk),
                                      {"member": people["claire"].pk})
    assert response.status_code == 200
    assert "Aperçu impossible" in response.content.decode()


def test_test_send_goes_to_the_caller_only(coordinator_client, association, coordinator, people,
                                           django_capture_on_commit_callbacks):
    campaign = make_campaign(association, coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url(association, "campaign_test_send", pk=campaign.pk),
                                           {"member": people["bruno"].pk}, follow=True)
    assert "Envoi de test adressé à coordinator@alpha.example.org" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["coordinator@alpha.example.org"]
    assert message.subject == "[TEST] Votre adhésion à CPTS Alpha"
    assert "Bonjour Bruno Petit" in message.body
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    with scope(association=association):
        assert OutgoingMail.objects.get().kind == MailKind.TEST
    assert rows_of(association, campaign) == []


def test_test_send_for_a_member_of_another_association_is_a_404(coordinator_client, association, coordinator,
                                                                 people):
    campaign = make_campaign(association, coordinator)
    response = coordinator_client.post(url(association, "campaign_test_send", pk=campaign.pk),
                                       {"member": people["foreign"].pk})
    assert response.status_code == 404
    with scope(association=association):
        assert not OutgoingMail.objects.exists()


# --- Launch and schedule -------------------------------------------------------------------------


def test_launch_sends_one_message_per_recipient_and_shows_the_funnel(coordinator_client, association, coordinator,
                                                                     people, django_capture_on_commit_callbacks):
    campaign = make_campaign(association, coordinator)
    detail = coordinator_client.get(url(association, "campaign_detail", pk=campaign.pk)).content.decode()
    assert "Envoyer maintenant ce message à 2 destinataires ?" in detail
    with django_capture_on_commit_callbacks(execute=True):  # sending starts after the commit
        response = coordinator_client.post(url(association, "campaign_launch", pk=campaign.pk))
    assert response.status_code == 302
    html = coordinator_client.get(response["Location"]).content.decode()
    assert "Campagne lancée : 2 e-mail(s) en cours d&#x27;envoi." in html
    assert sorted(message.to[0] for message in mail.outbox) == ["bruno@exemple.fr", "claire@exemple.fr"]
    rows = rows_of(association, campaign)
    assert [row.status for row in rows] == [MailStatus.SENT, MailStatus.SENT]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED and campaign.targeted_count == 2
    # The funnel: targeted 2 → sent 2 (100 %) → opens and clicks not tracked → 0 renewed.
    funnel = re.search(r'<table class="table table-sm align-middle" id="funnel">(.*?)</table>', html, re.S).group(1)
    cells = {key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
             for key, body in re.findall(r'<tr data-step="(\w+)">(.*?)</tr>', funnel, re.S)}
    assert cells["targeted"] == "Destinataires 2 —"
    assert cells["sent"] == "Envoyés 2 100 %"
    assert cells["opened"] == "Ouverts suivi désactivé"
    assert cells["clicked"] == "Cliqués suivi désactivé"
    assert cells["renewed"] == "Renouvellements 0 0 %"
    assert "1 sans adresse e-mail, 1 adresse invalide (rebond), 1 désinscrits" in html
    assert "Envoi terminé." in html and 'hx-trigger="every 2s"' not in html
    assert "Médecin généraliste" in html and "Infirmier·ère" in html  # the funnel by profession


def test_second_launch_is_refused(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    coordinator_client.post(url(association, "campaign_launch", pk=campaign.pk))
    response = coordinator_client.post(url(association, "campaign_launch", pk=campaign.pk), follow=True)
    assert "Cette campagne est déjà lancée." in response.content.decode()
    assert len(rows_of(association, campaign)) == 2


def test_launching_an_empty_audience_writes_nothing(coordinator_client, association, coordinator, people,
                                                    django_capture_on_commit_callbacks):
    campaign = make_campaign(association, coordinator, audience={"status": "prospect"})
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url(association, "campaign_launch", pk=campaign.pk), follow=True)
    assert "L&#x27;audience est vide" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and campaign.launched_at is None
    with scope(association=association):
        assert not OutgoingMail.objects.exists()
        assert not AuditLog.objects.filter(action="campaign.launch").exists()
    assert mail.outbox == []


def test_progress_is_polled_while_rows_wait(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    with scope(association=association):
        services.launch_campaign(campaign, coordinator)  # on_commit never runs here: rows stay queued
        row = OutgoingMail.objects.filter(campaign=campaign).first()
        row.status, row.sent_at = MailStatus.SENT, timezone.now()
        row.save()
    response = coordinator_client.get(url(association, "campaign_progress", pk=campaign.pk), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "1 envoyé(s), 0 échec(s), 1 en attente" in html
    assert "50 %" in html
    detail = coordinator_client.get(url(association, "campaign_detail", pk=campaign.pk)).content.decode()
    assert "En cours d&#x27;envoi" in detail and 'hx-trigger="every 2s"' in detail
    listing = coordinator_client.get(url(association, "campaign_list")).content.decode()
    assert "En cours d&#x27;envoi" in listing
    # The last row goes out: the poll stops and reloads the page to show the final funnel.
    with scope(association=association):
        OutgoingMail.objects.filter(campaign=campaign).update(status=MailStatus.SENT, sent_at=timezone.now())
    response = coordinator_client.get(url(association, "campaign_progress", pk=campaign.pk), HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    assert 'hx-trigger="every 2s"' not in response.content.decode()
    assert "2 envoyé(s), 0 échec(s), 0 en attente" in response.content.decode()


def test_schedule_and_unschedule(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    when = timezone.localtime() + timedelta(days=2)
    response = coordinator_client.post(url(association, "campaign_schedule", pk=campaign.pk),
                                       {"scheduled_at": when.strftime("%Y-%m-%dT%H:%M")}, follow=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert timezone.localtime(campaign.scheduled_at).strftime("%d/%m/%Y %H:%M") == when.strftime("%d/%m/%Y %H:%M")
    assert f"Campagne programmée le {when.strftime('%d/%m/%Y %H:%M')}." in response.content.decode()
    listing = coordinator_client.get(url(association, "campaign_list")).content.decode()
    assert f"Programmée le {when.strftime('%d/%m/%Y %H:%M')}" in listing
    coordinator_client.post(url(association, "campaign_unschedule", pk=campaign.pk))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and campaign.scheduled_at is None


@pytest.mark.parametrize("value, message", [
    ("", "Indiquez la date et l&#x27;heure de l&#x27;envoi."),
    ("demain", "Date et heure invalides"),
    ("2001-01-01T10:00", "Choisissez une date et une heure à venir."),
])
def test_schedule_refuses_bad_dates(coordinator_client, association, coordinator, people, value, message):
    campaign = make_campaign(association, coordinator)
    response = coordinator_client.post(url(association, "campaign_schedule", pk=campaign.pk),
                                       {"scheduled_at": value}, follow=True)
    assert message in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_schedule_refuses_an_empty_audience(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator, audience={"status": "prospect"})
    when = timezone.localtime() + timedelta(days=2)
    response = coordinator_client.post(url(association, "campaign_schedule", pk=campaign.pk),
                                       {"scheduled_at": when.strftime("%Y-%m-%dT%H:%M")}, follow=True)
    assert "L&#x27;audience est vide" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


@pytest.mark.parametrize("name", ["campaign_launch", "campaign_test_send", "campaign_schedule",
                                  "campaign_unschedule"])
def test_viewer_cannot_act(client, association, users, people, name):
    campaign = make_campaign(association, users[Role.COORDINATOR])
    client.force_login(users[Role.VIEWER])
    response = client.post(url(association, name, pk=campaign.pk),
                           {"scheduled_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    with scope(association=association):
        assert not OutgoingMail.objects.exists()
    assert client.post(url(association, "campaign_create"), form_data()).status_code == 403
    page = client.get(url(association, "campaign_detail", pk=campaign.pk))
    assert page.status_code == 200
    assert "Lancer maintenant" not in page.content.decode()


# --- Funnel, renewed, recipients -----------------------------------------------------------------


def _launched_with_events(association, coordinator, people) -> Campaign:
    """Claire opened, clicked and renewed (paid after the sending); Bruno's address bounced."""
    campaign = make_campaign(association, coordinator, track_opens=True, track_clicks=True)
    # Bruno paid last year's membership long before the campaign: not a renewal.
    with scope(association=association):
        old = membership_services.open_membership(people["bruno"], coordinator,
                                                  membership_services.previous_period(association))
        membership_services.record_payment(old, coordinator, amount=Decimal("30.00"), method="cheque",
                                           paid_on=timezone.localdate() - timedelta(days=200))
        Membership.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=200))
        services.launch_campaign(campaign, coordinator)
        sent = timezone.now() - timedelta(hours=2)
        OutgoingMail.objects.filter(campaign=campaign).update(status=MailStatus.SENT, sent_at=sent)
        OutgoingMail.objects.filter(campaign=campaign, member=people["claire"]).update(
            opened_at=sent + timedelta(minutes=5), clicked_at=sent + timedelta(minutes=6), open_count=1,
            click_count=1)
        OutgoingMail.objects.filter(campaign=campaign, member=people["bruno"]).update(
            status=MailStatus.FAILED, last_error="550 5.1.1 Utilisateur inconnu", bounced_at=timezone.now())
        membership = membership_services.open_membership(people["claire"], coordinator)
        membership_services.record_payment(membership, coordinator, amount=Decimal("30.00"), method="transfer")
        assert Membership.objects.get(pk=membership.pk).status == MembershipStatus.PAID
    return campaign


def test_funnel_counts_renewals_after_sending(coordinator_client, association, coordinator, people):
    campaign = _launched_with_events(association, coordinator, people)
    html = coordinator_client.get(url(association, "campaign_detail", pk=campaign.pk)).content.decode()
    funnel = re.search(r'id="funnel">(.*?)</table>', html, re.S).group(1)
    cells = {key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
             for key, body in re.findall(r'<tr data-step="(\w+)">(.*?)</tr>', funnel, re.S)}
    assert cells == {"targeted": "Destinataires 2 —", "sent": "Envoyés 2 100 %", "opened": "Ouverts 1 50 %",
                     "clicked": "Cliqués 1 50 %", "renewed": "Renouvellements 1 50 %"}
    assert "1 échec (adresse refusée ou rebond)" in html
    by_profession = re.search(r'id="funnel-by-profession">(.*?)</table>', html, re.S).group(1)
    assert re.search(r"Infirmier·ère</th>\s*<td[^>]*>1</td>", by_profession)
    listing = coordinator_client.get(url(association, "campaign_list")).content.decode()
    row = re.search(rf"<tr[^>]*>\s*<td[^>]*><a href=\"[^\"]+/campagnes/{campaign.pk}/\">.*?</tr>", listing,
                    re.S).group(0)
    numbers = re.findall(r'<td class="text-end">\s*(\d+)\s*</td>', row)
    assert numbers == ["2", "2", "1", "1", "1"]
    assert "Envoyée" in row


def test_recipients_list_statuses_filter_and_links(coordinator_client, association, coordinator, people):
    campaign = _launched_with_events(association, coordinator, people)
    recipients = url(association, "campaign_recipients", pk=campaign.pk)
    html = coordinator_client.get(recipients).content.decode()
    assert url(association, "member_detail", pk=people["claire"].pk) in html
    assert "A renouvelé" in html and "Échec" in html
    assert "550 5.1.1 Utilisateur inconnu" in html
    failed = coordinator_client.get(recipients, {"statut": "failed"}).content.decode()
    assert "bruno@exemple.fr" in failed and "claire@exemple.fr" not in failed
    renewed = coordinator_client.get(recipients, {"statut": "renewed"}).content.decode()
    assert "claire@exemple.fr" in renewed and "bruno@exemple.fr" not in renewed
    bad = coordinator_client.get(recipients, {"statut": "n-importe"})
    assert bad.status_code == 200
    assert "Statut inconnu" in bad.content.decode() and "claire@exemple.fr" not in bad.content.decode()


def test_recipients_export(coordinator_client, association, coordinator, people):
    campaign = _launched_with_events(association, coordinator, people)
    recipients = url(association, "campaign_recipients", pk=campaign.pk)
    response = coordinator_client.get(recipients, {"_export": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:6] == ["Adhérent", "E-mail", "Profession / type", "Statut", "Envoyé le", "Réponse du serveur"]
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {"claire@exemple.fr", "bruno@exemple.fr"}
    assert by_email["claire@exemple.fr"][0] == "Claire MARTIN"
    assert by_email["claire@exemple.fr"][3] == "A renouvelé"
    assert by_email["bruno@exemple.fr"][2] == "Infirmier·ère"
    assert by_email["bruno@exemple.fr"][5] == "550 5.1.1 Utilisateur inconnu"
    xlsx = coordinator_client.get(recipients, {"_export": "xlsx", "statut": "failed"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == ["bruno@exemple.fr"]


def test_test_sends_are_not_recipients(coordinator_client, association, coordinator, people):
    campaign = make_campaign(association, coordinator)
    with scope(association=association):
        services.send_test(campaign, coordinator, people["claire"])
        services.launch_campaign(campaign, coordinator)
    response = coordinator_client.get(url(association, "campaign_recipients", pk=campaign.pk), {"_export": "csv"})
    assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 1 + 2


@pytest.mark.parametrize("name, sort", [
    ("campaign_list", "when"), ("campaign_list", "-state"), ("campaign_list", "-renewed_count"),
    ("campaign_recipients", "member"), ("campaign_recipients", "-progress"), ("campaign_recipients", "profession"),
])
def test_tables_sort_on_every_column_kind(coordinator_client, association, coordinator, people, name, sort):
    campaign = _launched_with_events(association, coordinator, people)
    kwargs = {"pk": campaign.pk} if name == "campaign_recipients" else {}
    response = coordinator_client.get(url(association, name, **kwargs), {"sort": sort})
    assert response.status_code == 200
    assert "bruno@exemple.fr" in response.content.decode() or name == "campaign_list"


# --- Query counts ------------------------------------------------------------------------------


def _count_queries(client, address, params=None) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(address, params or {}).status_code == 200
    return len(context.captured_queries)


def _add_recipients(association, start: int, stop: int, profession=None) -> None:
    for i in range(start, stop):
        kwargs = {"profession": profession} if profession and i % 2 else {}
        make_member(association, first_name=f"P{i}", last_name="Dupont", email=f"p{i}@exemple.fr",
                    status="to_renew", **kwargs)


def test_list_queries_do_not_grow_with_campaigns(coordinator_client, association, coordinator, people,
                                                 django_assert_num_queries):
    """Middleware (session, user, association, role), the association switcher, the row count and one
    query for the page (counts as correlated subqueries)."""
    make_campaign(association, coordinator)
    address = url(association, "campaign_list")
    with_one = _count_queries(coordinator_client, address)
    for i in range(14):
        campaign = make_campaign(association, coordinator, name=f"Campagne {i}")
        if i % 3 == 0:
            with scope(association=association):
                services.launch_campaign(campaign, coordinator)
    with django_assert_num_queries(with_one):
        response = coordinator_client.get(address)
    assert response.content.decode().count("/campagnes/") >= 15
    assert with_one <= 8


def test_detail_queries_do_not_grow_with_recipients(coordinator_client, association, coordinator, people,
                                                    django_assert_num_queries):
    """Launched: the campaign, the audience labels, the funnel (one aggregate) and the funnel by
    profession (one grouped query), besides the middleware's."""
    small = make_campaign(association, coordinator)
    with scope(association=association):
        services.launch_campaign(small, coordinator)
    with_two = _count_queries(coordinator_client, url(association, "campaign_detail", pk=small.pk))
    _add_recipients(association, 0, 12, people["nurse"])
    big = make_campaign(association, coordinator, name="Grande")
    with scope(association=association):
        services.launch_campaign(big, coordinator)
    with django_assert_num_queries(with_two):
        coordinator_client.get(url(association, "campaign_detail", pk=big.pk))
    # Before launch: the audience count and sample.
    draft = make_campaign(association, coordinator, name="Brouillon")
    with_fourteen = _count_queries(coordinator_client, url(association, "campaign_detail", pk=draft.pk))
    _add_recipients(association, 12, 30)
    with django_assert_num_queries(with_fourteen):
        coordinator_client.get(url(association, "campaign_detail", pk=draft.pk))


def test_recipients_queries_do_not_grow_with_rows(coordinator_client, association, coordinator, people,
                                                  django_assert_num_queries):
    """The row count and one query for the page (member and profession joined, status as an expression)."""
    small = make_campaign(association, coordinator)
    with scope(association=association):
        services.launch_campaign(small, coordinator)
    with_two = _count_queries(coordinator_client, url(association, "campaign_recipients", pk=small.pk))
    _add_recipients(association, 0, 20, people["nurse"])
    big = make_campaign(association, coordinator, name="Grande")
    with scope(association=association):
        services.launch_campaign(big, coordinator)
    with django_assert_num_queries(with_two):
        response = coordinator_client.get(url(association, "campaign_recipients", pk=big.pk))
    assert response.content.decode().count("@exemple.fr") >= 22
    with django_assert_num_queries(with_two):
        coordinator_client.get(url(association, "campaign_recipients", pk=big.pk), {"statut": "queued"})
