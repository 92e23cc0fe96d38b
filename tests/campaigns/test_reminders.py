"""Automatic renewal reminders: the step due today (and only it), never twice, never to whoever renewed,
left, unsubscribed or has no address; a paused schedule; the list of upcoming reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import reminders
from associations.campaigns.services import long_date
from associations.models import AuditLog, MailKind, MailStatus, MembershipStatus, MemberStatus, OutgoingMail
from associations.services import ServiceError
from tests.campaigns.conftest import settle
from tests.factories import make_member, set_tariffs

TODAY = timezone.localdate()


def ending(member, end, status=MembershipStatus.PAID):
    """``member``'s last settled period ends on ``end``."""
    return settle(member, end - timedelta(days=364), end, status=status)


@pytest.fixture
def reminder_members(association, other_association):
    set_tariffs(association)
    set_tariffs(other_association)

    def person(name, **kwargs):
        kwargs.setdefault("email", f"{name.lower()}@exemple.fr")
        return make_member(association, first_name=name, last_name="Test", **kwargs)

    people = {
        "soon": person("Bientot"),                       # period ends in 30 days
        "lapsed": person("Expire"),                      # ended 15 days ago
        "later": person("Plustard"),                     # ends in 10 days
        "pending": person("Declare"),                    # ends in 30 days, renewal declared (pending)
        "paid": person("Paye"),                          # ends in 30 days, next period already paid
        "resigned": person("Demission"),
        "struck": person("Radie"),
        "unsubscribed": person("Desinscrit", mail_opt_out_at=timezone.now()),
        "invalid": person("Invalide", email_invalid=True),
        "no_email": person("Sansmail", email=""),
        "old": person("Ancien"),                         # ended 60 days ago: past the last step's week
    }
    for key in ("soon", "pending", "paid", "resigned", "struck", "unsubscribed", "invalid", "no_email"):
        ending(people[key], TODAY + timedelta(days=30))
    ending(people["lapsed"], TODAY - timedelta(days=15))
    ending(people["later"], TODAY + timedelta(days=10))
    ending(people["old"], TODAY - timedelta(days=60))
    next_start = TODAY + timedelta(days=31)
    settle(people["pending"], next_start, next_start + timedelta(days=364), status=MembershipStatus.PENDING)
    settle(people["paid"], next_start, next_start + timedelta(days=364), status=MembershipStatus.PAID)
    with scope(association=association):
        for key, status in (("resigned", MemberStatus.RESIGNED), ("struck", MemberStatus.STRUCK_OFF)):
            people[key].status = status
            people[key].save()
    foreign = make_member(other_association, first_name="Bientot", last_name="Ailleurs", email="bientot@exemple.fr")
    ending(foreign, TODAY + timedelta(days=30))
    people["foreign"] = foreign
    return people


def queue(association, day=TODAY) -> int:
    with scope(association=association):
        return reminders.queue_due_reminders(association, today=day)


def reminder_rows(association) -> list[OutgoingMail]:
    with scope(association=association):
        return list(OutgoingMail.objects.filter(association=association, kind=MailKind.REMINDER)
                    .select_related("member").order_by("id"))


def steps(association) -> dict[str, list[int]]:
    result: dict[str, list[int]] = {}
    for row in reminder_rows(association):
        result.setdefault(row.member.first_name, []).append(row.reminder_offset)
    return result


def test_default_schedule(association):
    with scope(association=association):
        schedule = reminders.schedule_for(association)
    assert schedule.enabled and schedule.offsets == [-30, 0, 15, 45]


def test_todays_step_only_and_never_to_those_who_must_not_get_it(association, reminder_members):
    assert queue(association) == 3
    # "later" (ends in 10 days) was never reminded: its latest due step, -30, goes out today (late).
    assert steps(association) == {"Bientot": [-30], "Expire": [15], "Plustard": [-30]}
    rows = {row.member.first_name: row for row in reminder_rows(association)}
    soon, lapsed = rows["Bientot"], rows["Expire"]
    assert soon.reminder_period_end == TODAY + timedelta(days=30)
    assert lapsed.reminder_period_end == TODAY - timedelta(days=15)
    assert soon.status == MailStatus.QUEUED and soon.to_email == "bientot@exemple.fr"
    assert soon.subject == f"Votre adhésion à CPTS Alpha arrive à échéance le {long_date(soon.reminder_period_end)}"
    assert lapsed.subject == f"Votre adhésion à CPTS Alpha a expiré le {long_date(lapsed.reminder_period_end)}"
    assert "Cotisation : 30,00\u00a0€." in soon.body_text and "/p/alpha/renouveler/" in soon.body_text
    assert soon.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Nothing in the other association.
    assert reminder_rows(reminder_members["foreign"].association) == []
    with scope(association=association):
        log = AuditLog.objects.get(association=association, action="reminders.queue")
    assert log.changes == {"queued": 3}


def test_not_twice_the_same_day_nor_the_next(association, reminder_members):
    assert queue(association) == 3
    assert queue(association) == 0
    assert queue(association, TODAY + timedelta(days=1)) == 0
    assert steps(association) == {"Bientot": [-30], "Expire": [15], "Plustard": [-30]}


def test_a_cancelled_step_is_not_queued_again(association, reminder_members):
    queue(association)
    with scope(association=association):
        OutgoingMail.objects.filter(kind=MailKind.REMINDER).update(status=MailStatus.CANCELLED)
    assert queue(association) == 0


def test_the_following_steps_come_on_their_day(association, reminder_members):
    queue(association)
    # Ten days later, "later"'s period ends (step 0); "soon" still has its -30 only.
    assert queue(association, TODAY + timedelta(days=10)) == 1
    assert steps(association)["Plustard"] == [-30, 0]
    # Thirty days later, "soon" gets step 0, and "lapsed" (ended 45 days before) gets 45.
    assert queue(association, TODAY + timedelta(days=30)) == 3
    assert steps(association)["Bientot"] == [-30, 0]
    assert steps(association)["Expire"] == [15, 45]
    assert steps(association)["Plustard"] == [-30, 0, 15]  # its period ended 20 days before


def test_a_late_run_sends_the_latest_step_not_a_backlog(association, reminder_members):
    # Nothing ran for 40 days: "soon" (ended 10 days ago) gets only the step 0 it is now in.
    assert queue(association, TODAY + timedelta(days=40)) >= 1
    assert steps(association)["Bientot"] == [0]
    assert "Ancien" not in steps(association)  # 100 days after: past every step


def test_a_renewal_stops_the_reminders(association, reminder_members):
    queue(association)
    settle(reminder_members["soon"], TODAY + timedelta(days=31), TODAY + timedelta(days=395),
           status=MembershipStatus.PENDING)
    queued_before = len(reminder_rows(association))
    queue(association, TODAY + timedelta(days=30))
    assert steps(association)["Bientot"] == [-30]
    assert len(reminder_rows(association)) == queued_before + 2  # "lapsed"'s 45 and "later"'s 15


def test_paused_schedule_queues_nothing(association, reminder_members, coordinator):
    with scope(association=association):
        reminders.update_schedule(association, coordinator, {"enabled": False})
        assert AuditLog.objects.filter(association=association, action="reminders.settings").count() == 1
    assert queue(association) == 0
    assert reminder_rows(association) == []
    with scope(association=association):
        reminders.update_schedule(association, coordinator, {"enabled": True})
    assert queue(association) == 3


def test_update_schedule_refuses_an_unknown_placeholder(association, coordinator):
    with scope(association=association), pytest.raises(ServiceError, match=r"Champ inconnu : \{cotisation\}"):
        reminders.update_schedule(association, coordinator, {"body_before": "Payez {cotisation}"})


@pytest.mark.parametrize("text, expected", [
    ("-30, 0, 15, 45", [-30, 0, 15, 45]),
    ("45; +15, 0,-30, 15", [-30, 0, 15, 45]),
    (" 7 ", [7]),
])
def test_parse_offsets(text, expected):
    assert reminders.parse_offsets(text) == expected


@pytest.mark.parametrize("text, message", [
    ("-30, trente", "« trente » n'est pas un nombre de jours"),
    ("400", "moins d'un an"),
    (" , ", "au moins une étape"),
])
def test_parse_offsets_errors(text, message):
    with pytest.raises(ServiceError, match=message):
        reminders.parse_offsets(text)


def upcoming(association, day=TODAY, days=30):
    with scope(association=association):
        items, total = reminders.upcoming_reminders(association, today=day, days=days)
    return [(item.member.first_name, item.day, item.offset) for item in items], total


def test_upcoming_reminders_lists_day_and_step_and_omits_those_sent(association, reminder_members):
    items, total = upcoming(association)
    assert items == [
        ("Bientot", TODAY, -30),
        ("Expire", TODAY, 15),
        ("Plustard", TODAY, -30),  # late: the queue sends it today too
        ("Plustard", TODAY + timedelta(days=10), 0),
        ("Plustard", TODAY + timedelta(days=25), 15),
    ]
    assert total == 5
    queue(association)
    items, total = upcoming(association)
    assert items == [("Plustard", TODAY + timedelta(days=10), 0), ("Plustard", TODAY + timedelta(days=25), 15)]
    assert total == 2


def test_upcoming_reminders_match_what_the_queue_sends(association, reminder_members):
    """Day after day over two months, what upcoming_reminders announced is exactly what was queued, on that day."""
    announced, _total = upcoming(association, days=60)
    queued, seen = set(), set()
    for offset in range(60):
        day = TODAY + timedelta(days=offset)
        queue(association, day)
        for row in reminder_rows(association):
            if row.pk not in seen:
                seen.add(row.pk)
                queued.add((row.member.first_name, day, row.reminder_offset))
    assert set(announced) == queued
    assert len(announced) == len(queued) == 9


def test_step_labels():
    assert reminders.step_label(-30) == "30 jours avant l'échéance"
    assert reminders.step_label(-1) == "1 jour avant l'échéance"
    assert reminders.step_label(0) == "le jour de l'échéance"
    assert reminders.step_label(15) == "15 jours après l'échéance"


def test_a_member_whose_message_cannot_be_written_does_not_block_the_others(association, reminder_members):
    from associations.models import Tariff

    student = make_member(association, first_name="Etudiant", last_name="Test", email="etudiant@exemple.fr",
                          is_student=True)
    ending(student, TODAY + timedelta(days=30))
    with scope(association=association):
        Tariff.objects.filter(association=association, category="student").delete()
    assert queue(association) == 3
    assert "Etudiant" not in steps(association)
    with scope(association=association):
        log = AuditLog.objects.get(association=association, action="reminders.queue")
    assert log.changes["queued"] == 3 and log.changes["skipped"] == 1
    assert "« student »" in log.changes["errors"][0]
    # Once the tariff exists, the next run catches up with that member.
    set_tariffs(association)
    assert queue(association, TODAY + timedelta(days=1)) == 1
    assert steps(association)["Etudiant"] == [-30]
