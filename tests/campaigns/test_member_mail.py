"""E-mail state on the member page: bounce, unsubscription and resubscription at the member's request,
the last e-mails sent; correcting the address forgets the bounce."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import services as campaign_services
from associations.membership import services
from associations.models import AuditLog, MailKind, MailStatus, Member, Profession, Role
from tests.factories import make_member

from .conftest import make_campaign, make_mail

RESUBSCRIBE_LABEL = "Réinscrire (à la demande de l'adhérent)"


def url(name: str, association, **kwargs) -> str:
    return reverse(name, kwargs={"association_slug": association.slug, **kwargs})



def fresh(association, member) -> Member:
    with scope(association=association):
        return Member.objects.get(pk=member.pk)


def audits(association, action: str) -> list[AuditLog]:
    with scope(association=association):
        return list(AuditLog.objects.filter(association=association, action=action))


def test_member_page_shows_the_bounce(coordinator_client, association, claire):
    with scope(association=association):
        campaign_services.record_bounce(association, "claire@exemple.fr", reason="550 5.1.1 User unknown")
    html = coordinator_client.get(url("member_detail", association, pk=claire.pk)).content.decode()
    bounced_at = timezone.localtime(fresh(association, claire).email_bounced_at).strftime("%d/%m/%Y")
    assert 'id="email-bounce"' in html
    assert f"Rebond le {bounced_at}" in html and "550 5.1.1 User unknown" in html
    assert "adresse invalide" in html
    assert "Rebond d&#x27;e-mail enregistré" in html  # the history


def test_member_page_shows_the_opt_out_and_resubscribe_button(client, association, users, claire):
    with scope(association=association):
        campaign_services.unsubscribe(claire, via="lien")
    page = url("member_detail", association, pk=claire.pk)
    client.force_login(users[Role.COORDINATOR])
    html = client.get(page).content.decode()
    opted_at = timezone.localtime(fresh(association, claire).mail_opt_out_at).strftime("%d/%m/%Y")
    assert 'id="email-opt-out"' in html and "désinscrit des e-mails" in html and opted_at in html
    assert RESUBSCRIBE_LABEL in html and url("member_resubscribe", association, pk=claire.pk) in html
    client.force_login(users[Role.VIEWER])
    html = client.get(page).content.decode()
    assert "désinscrit des e-mails" in html
    assert url("member_resubscribe", association, pk=claire.pk) not in html


def test_no_resubscribe_button_for_a_subscribed_member(coordinator_client, association, claire):
    html = coordinator_client.get(url("member_detail", association, pk=claire.pk)).content.decode()
    assert 'id="email-opt-out"' not in html and 'id="email-bounce"' not in html
    assert url("member_resubscribe", association, pk=claire.pk) not in html


def test_resubscribe_clears_the_opt_out_and_is_audited(coordinator_client, association, claire):
    with scope(association=association):
        campaign_services.unsubscribe(claire, via="lien")
    response = coordinator_client.post(url("member_resubscribe", association, pk=claire.pk))
    assert response.status_code == 302
    assert response["Location"] == url("member_detail", association, pk=claire.pk)
    assert fresh(association, claire).mail_opt_out_at is None
    assert len(audits(association, "member.resubscribe")) == 1
    # Again: nothing to do, nothing audited.
    coordinator_client.post(url("member_resubscribe", association, pk=claire.pk))
    assert len(audits(association, "member.resubscribe")) == 1


def test_resubscribe_is_refused_to_a_viewer_and_other_associations(client, association, other_association, users,
                                                                   claire):
    with scope(association=association):
        campaign_services.unsubscribe(claire, via="lien")
    client.force_login(users[Role.VIEWER])
    assert client.post(url("member_resubscribe", association, pk=claire.pk)).status_code == 403
    assert client.get(url("member_resubscribe", association, pk=claire.pk)).status_code in (403, 405)
    foreign = make_member(other_association, first_name="Ailleurs", last_name="Bernard", email="b@exemple.fr",
                          mail_opt_out_at=timezone.now())
    client.force_login(users[Role.COORDINATOR])
    assert client.post(url("member_resubscribe", association, pk=foreign.pk)).status_code == 404
    assert fresh(association, claire).mail_opt_out_at is not None
    assert fresh(other_association, foreign).mail_opt_out_at is not None
    assert audits(association, "member.resubscribe") == []


def test_sent_mails_card_shows_the_last_ten(coordinator_client, association, claire):
    campaign = make_campaign(association, name="Renouvellement 2026", track_opens=True)
    now = timezone.now()
    for i in range(12):
        make_mail(association, claire, kind=MailKind.CAMPAIGN if i == 11 else MailKind.REMINDER,
                  campaign=campaign if i == 11 else None, subject=f"Message numéro {i:02d}",
                  reminder_offset=None if i == 11 else i, reminder_period_end=None if i == 11 else now.date(),
                  status=MailStatus.SENT, sent_at=now - timedelta(hours=12 - i),
                  created_at=now - timedelta(hours=12 - i),
                  opened_at=now if i == 11 else None, clicked_at=now if i == 11 else None)
    other = make_member(association, first_name="Autre", last_name="Personne", email="autre@exemple.fr")
    make_mail(association, other, subject="Pour quelqu'un d'autre", status=MailStatus.SENT, sent_at=now)
    html = coordinator_client.get(url("member_detail", association, pk=claire.pk)).content.decode()
    card = html[html.index('id="member-mails"'):html.index('id="history-title"')]
    assert "E-mails envoyés" in card
    for i in range(2, 12):
        assert f"Message numéro {i:02d}" in card
    assert "Message numéro 00" not in card and "Message numéro 01" not in card
    assert card.index("Message numéro 11") < card.index("Message numéro 10")  # newest first
    assert "« Renouvellement 2026 »" in card and "Relance automatique" in card and "Envoyé" in card
    assert f"ouvert le {now:%d/%m/%Y}" in card and f"cliqué le {now:%d/%m/%Y}" in card
    assert "quelqu&#x27;un d&#x27;autre" not in card


def test_member_page_queries_do_not_grow_with_mails(coordinator_client, association, claire,
                                                    django_assert_num_queries):
    campaign = make_campaign(association)
    make_mail(association, claire, campaign=campaign, status=MailStatus.SENT, sent_at=timezone.now())
    page = url("member_detail", association, pk=claire.pk)
    coordinator_client.get(page)
    with CaptureQueriesContext(connection) as few:
        coordinator_client.get(page)
    for i in range(15):
        make_mail(association, claire, campaign=make_campaign(association, name=f"C{i}"), status=MailStatus.SENT,
                  sent_at=timezone.now())
    with django_assert_num_queries(len(few.captured_queries)):
        response = coordinator_client.get(page)
    assert response.content.decode().count("« C") == 10


# --- Correcting the address -----------------------------------------------------------------------


def _bounce(association, member) -> None:
    with scope(association=association):
        campaign_services.record_bounce(association, member.email, reason="550 5.1.1 User unknown")
    assert fresh(association, member).email_invalid


def test_editing_the_email_clears_the_bounce(coordinator_client, association, claire):
    _bounce(association, claire)
    response = coordinator_client.post(url("member_edit", association, pk=claire.pk), {
        "kind": "person", "first_name": "Claire", "last_name": "Martin",
        "profession": Profession.objects.get(code="medecin-generaliste").pk, "email": "claire.martin@exemple.fr",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    member = fresh(association, claire)
    assert member.email == "claire.martin@exemple.fr"
    assert not member.email_invalid and member.email_bounced_at is None and member.email_bounce_reason == ""
    entry = audits(association, "member.update")[-1]
    assert entry.changes["email_invalid"] == ["True", "False"]
    html = coordinator_client.get(url("member_detail", association, pk=claire.pk)).content.decode()
    assert 'id="email-bounce"' not in html


def test_editing_something_else_keeps_the_bounce(association, coordinator, claire):
    _bounce(association, claire)
    with scope(association=association):
        member = Member.objects.get(pk=claire.pk)
        services.update_member(member, coordinator, {"phone": "0601020304", "email": "CLAIRE@exemple.fr"})
    member = fresh(association, claire)
    assert member.email_invalid and member.email_bounced_at is not None
    assert member.email_bounce_reason == "550 5.1.1 User unknown"
