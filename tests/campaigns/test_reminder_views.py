"""The automatic reminders screen: settings (schedule, texts, pause), upcoming reminders of the next 30
days, last reminder e-mails; owner / viewer / outsider; constant number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import reminders
from associations.membership import services
from associations.models import AuditLog, MailKind, MailStatus, MemberStatus, OutgoingMail, ReminderSchedule, Role
from tests.factories import make_member, set_tariffs

from .conftest import make_mail, settle

VALID = {
    "enabled": "on", "offsets": "-20, 0, 10", "subject_before": "Bientôt l'échéance, {prenom}",
    "body_before": "Bonjour {prenom} {nom}, renouvelez avant le {date_limite} : {lien_renouvellement}",
    "subject_after": "Adhésion expirée", "body_after": "Bonjour {prenom}, votre adhésion a expiré le {date_limite}.",
    "track_clicks": "on",
}


def settings_url(association) -> str:
    return reverse("reminder_settings", kwargs={"association_slug": association.slug})


def toggle_url(association) -> str:
    return reverse("reminder_toggle", kwargs={"association_slug": association.slug})


def schedule(association) -> ReminderSchedule:
    with scope(association=association):
        return reminders.schedule_for(association)


def settings_audits(association) -> int:
    with scope(association=association):
        return AuditLog.objects.filter(association=association, action="reminders.settings").count()


def field_errors(response, name: str) -> str:
    match = re.search(rf'id="id_{name}_errors">(.*?)</div></div>', response.content.decode(), re.S)
    return match.group(1) if match else ""


def member_ending(association, actor, days: int, **kwargs):
    """A member whose last settled membership (opened and paid through the services) ends in ``days`` days."""
    member = make_member(association, **kwargs)
    end = timezone.localdate() + timedelta(days=days)
    with scope(association=association):
        period = services.Period(f"{end.year - 1}-{end.year}", end - timedelta(days=364), end)
        membership = services.open_membership(member, actor, period)
        services.record_payment(membership, actor, amount=membership.amount_due, method="cheque")
        membership.refresh_from_db()
        assert membership.is_settled and membership.end_date == end
    return member


# --- Settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ASSISTANT, Role.VIEWER])
def test_every_staff_role_sees_the_page(client, association, users, role):
    client.force_login(users[role])
    response = client.get(settings_url(association))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Relances actives" in html and "8 h 30" in html
    assert 'value="-30, 0, 15, 45"' in html  # the default schedule
    editable = role != Role.VIEWER
    assert (toggle_url(association) in html) is editable
    assert (f'action="{settings_url(association)}"' in html) is editable


def test_viewer_cannot_post(client, association, users):
    client.force_login(users[Role.VIEWER])
    assert client.post(settings_url(association), VALID).status_code == 403
    assert client.post(toggle_url(association), {"action": "pause"}).status_code == 403
    assert schedule(association).offsets == [-30, 0, 15, 45] and schedule(association).enabled
    assert settings_audits(association) == 0


def test_outsider_gets_404(client, association, users):
    client.force_login(users["outsider"])
    assert client.get(settings_url(association)).status_code == 404
    assert client.post(settings_url(association), VALID).status_code == 404


def test_invalid_offsets_are_refused_next_to_the_field(coordinator_client, association):
    before = schedule(association)
    response = coordinator_client.post(settings_url(association), {**VALID, "offsets": "abc"})
    assert response.status_code == 200
    assert "« abc » n&#x27;est pas un nombre de jours" in field_errors(response, "offsets")
    after = schedule(association)
    assert after.offsets == before.offsets and after.subject_before == before.subject_before
    assert settings_audits(association) == 0


def test_an_offset_beyond_a_year_is_refused(coordinator_client, association):
    response = coordinator_client.post(settings_url(association), {**VALID, "offsets": "-30, 400"})
    assert response.status_code == 200
    assert "moins d&#x27;un an" in field_errors(response, "offsets")
    assert schedule(association).offsets == [-30, 0, 15, 45]


def test_unknown_placeholder_is_named_next_to_the_field(coordinator_client, association):
    response = coordinator_client.post(settings_url(association),
                                       {**VALID, "body_after": "Bonjour {prenom} {nom_complet}"})
    assert response.status_code == 200
    errors = field_errors(response, "body_after")
    assert "Champ inconnu" in errors and "{nom_complet}" in errors
    assert field_errors(response, "body_before") == ""
    assert "nom_complet" not in schedule(association).body_after
    assert schedule(association).offsets == [-30, 0, 15, 45]
    assert settings_audits(association) == 0


def test_valid_post_changes_the_schedule_and_is_audited(coordinator_client, association):
    response = coordinator_client.post(settings_url(association), VALID)
    assert response.status_code == 302 and response["Location"] == settings_url(association)
    saved = schedule(association)
    assert saved.offsets == [-20, 0, 10]
    assert saved.subject_before == VALID["subject_before"] and saved.body_after == VALID["body_after"]
    assert saved.track_clicks and not saved.track_opens and saved.enabled
    with scope(association=association):
        entry = AuditLog.objects.get(association=association, action="reminders.settings")
    assert entry.changes["offsets"] == ["[-30, 0, 15, 45]", "[-20, 0, 10]"]
    page = coordinator_client.get(settings_url(association)).content.decode()
    assert 'value="-20, 0, 10"' in page and "20 jours avant l&#x27;échéance" in page


def test_unchecking_enabled_pauses(coordinator_client, association):
    data = {key: value for key, value in VALID.items() if key != "enabled"}
    assert coordinator_client.post(settings_url(association), data).status_code == 302
    assert not schedule(association).enabled
    assert "Relances en pause" in coordinator_client.get(settings_url(association)).content.decode()


def test_pause_stops_the_daily_run_and_resume_restarts_it(coordinator_client, association, coordinator):
    set_tariffs(association)
    member_ending(association, coordinator, 0, first_name="Jour", last_name="Même", email="jour@exemple.fr")
    response = coordinator_client.post(toggle_url(association), {"action": "pause"})
    assert response.status_code == 302
    assert not schedule(association).enabled
    assert "Relances en pause" in coordinator_client.get(settings_url(association)).content.decode()
    with scope(association=association):
        assert reminders.queue_due_reminders(association) == 0
        assert not OutgoingMail.objects.filter(association=association).exists()
        assert AuditLog.objects.filter(association=association, action="reminders.settings").count() == 1
    coordinator_client.post(toggle_url(association), {"action": "resume"})
    assert schedule(association).enabled
    with scope(association=association):
        assert reminders.queue_due_reminders(association) == 1


def test_toggle_refuses_an_unknown_action(coordinator_client, association):
    response = coordinator_client.post(toggle_url(association), {"action": "delete"}, follow=True)
    assert "Action inconnue" in response.content.decode()
    assert schedule(association).enabled


# --- Upcoming reminders and last e-mails ---------------------------------------------------------


def test_upcoming_lists_the_member_due_and_not_the_one_who_renewed(coordinator_client, association, coordinator):
    set_tariffs(association)
    due = member_ending(association, coordinator, 10, first_name="Paul", last_name="Attente",
                        email="paul@exemple.fr")
    renewed = member_ending(association, coordinator, 10, first_name="Rita", last_name="Renouvelée",
                            email="rita@exemple.fr")
    resigned = member_ending(association, coordinator, 10, first_name="Denis", last_name="Parti",
                             email="denis@exemple.fr")
    with scope(association=association):
        end = timezone.localdate() + timedelta(days=10)
        following = services.Period("suivante", end + timedelta(days=1), end + timedelta(days=365))
        next_one = services.open_membership(renewed, coordinator, following)
        services.record_payment(next_one, coordinator, amount=next_one.amount_due, method="transfer")
        services.set_departure(resigned, coordinator, MemberStatus.RESIGNED)
    html = coordinator_client.get(settings_url(association)).content.decode()
    detail = reverse("member_detail", kwargs={"association_slug": association.slug, "pk": due.pk})
    assert f'href="{detail}">Paul ATTENTE</a>' in html
    # Ends in 10 days and never reminded: the late "30 days before" step goes out today, then the day
    # itself (in 10 days) and 15 days after (in 25 days) fall in the next 30 days.
    assert html.count(f'href="{detail}"') == 3
    assert "le jour de l&#x27;échéance" in html and "15 jours après l&#x27;échéance" in html
    assert end.strftime("%d/%m/%Y") in html
    assert "3 relances prévues" in html
    assert "Rita" not in html and "Denis" not in html


def test_last_reminder_mails_newest_first(coordinator_client, association, coordinator):
    member = make_member(association, first_name="Léa", last_name="Relancée", email="lea@exemple.fr")
    end = timezone.localdate() - timedelta(days=20)
    old = make_mail(association, member, kind=MailKind.REMINDER, reminder_period_end=end, reminder_offset=-30,
                    status=MailStatus.SENT, sent_at=timezone.now() - timedelta(days=50),
                    created_at=timezone.now() - timedelta(days=50))
    make_mail(association, member, kind=MailKind.REMINDER, reminder_period_end=end, reminder_offset=15,
              status=MailStatus.FAILED, last_error="550 5.1.1 Boîte inconnue")
    make_mail(association, member, subject="Pas une relance")  # a test send: not listed
    html = coordinator_client.get(settings_url(association)).content.decode()
    section = html[html.index('id="envoyees"'):]
    assert section.index("15 jours après") < section.index("30 jours avant")
    assert "550 5.1.1 Boîte inconnue" in section and "Échec" in section and "Envoyé" in section
    assert timezone.localtime(old.sent_at).strftime("%d/%m/%Y") in section
    assert "Pas une relance" not in html


def test_page_queries_do_not_grow_with_members(coordinator_client, association, coordinator,
                                               django_assert_num_queries):
    """Session, user, association, role, association switcher; schedule; remindable members; reminders
    already queued for them; last reminder e-mails (+ member) — whatever the number of members."""
    today = timezone.localdate()

    def add(start: int, stop: int) -> None:
        for i in range(start, stop):
            member = make_member(association, first_name=f"P{i}", last_name="Dupont", email=f"p{i}@exemple.fr")
            settle(member, today - timedelta(days=355), today + timedelta(days=10 + i % 5))
            make_mail(association, member, kind=MailKind.REMINDER, reminder_period_end=today + timedelta(days=10),
                      reminder_offset=-30, status=MailStatus.SENT, sent_at=timezone.now())

    add(0, 2)
    url = settings_url(association)
    coordinator_client.get(url)  # creates the schedule
    with CaptureQueriesContext(connection) as few:
        response = coordinator_client.get(url)
    assert "5 relances prévues" in response.content.decode()
    add(2, 40)
    with django_assert_num_queries(len(few.captured_queries)):
        response = coordinator_client.get(url)
    assert "112 relances prévues" in response.content.decode()
    assert len(few.captured_queries) <= 12
