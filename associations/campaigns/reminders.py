"""Automatic renewal reminders: a per-association schedule of steps counted in days from the end of the
member's last settled membership period (default: 30 days before, the day itself, 15 and 45 days after).

Every day the reminders due are queued in the outbox. A member is reminded only while their last
settled period is the one ending at that date: whoever renewed (or declared a renewal), resigned, was
struck off, unsubscribed or has no valid address is left out. The unique (member, period end, step)
constraint makes a second reminder of the same step impossible; a late run sends only the latest step
due, never a backlog of older ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import DateField, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from associations import audit
from associations.campaigns import rendering
from associations.campaigns.services import BULK_BATCH, Renderer, enqueue_sending
from associations.models import (
    Association,
    MailKind,
    Member,
    Membership,
    MembershipStatus,
    MemberStatus,
    OutgoingMail,
    ReminderSchedule,
    User,
)
from associations.models.campaigns import _uid
from associations.services import ServiceError

SETTLED = [MembershipStatus.PAID, MembershipStatus.EXEMPT]
UPCOMING_DAYS = 30
MAX_OFFSET = 365

DEFAULT_TEXTS = {
    "subject_before": "Votre adhésion à {association} arrive à échéance le {date_limite}",
    "body_before": (
        "Bonjour {prenom} {nom},\n\n"
        "Votre adhésion à {association} arrive à échéance le {date_limite}. Pour continuer à participer aux "
        "actions de la CPTS et à ses votes, renouvelez-la en une minute : vos informations sont déjà remplies.\n\n"
        "{lien_renouvellement}\n\n"
        "Cotisation : {montant}.\n\n"
        "Merci de votre engagement,\nLa coordination"
    ),
    "subject_after": "Votre adhésion à {association} a expiré le {date_limite}",
    "body_after": (
        "Bonjour {prenom} {nom},\n\n"
        "Votre adhésion à {association} a expiré le {date_limite}. Vous pouvez la renouveler en ligne, "
        "en une minute :\n\n"
        "{lien_renouvellement}\n\n"
        "Cotisation : {montant}. Si vous ne souhaitez pas renouveler, ignorez simplement ce message.\n\n"
        "La coordination"
    ),
}


def schedule_for(association: Association) -> ReminderSchedule:
    """The association's schedule (created with the defaults the first time it is needed)."""
    schedule = ReminderSchedule.objects.filter(association=association).first()
    if schedule is None:
        schedule, _created = ReminderSchedule.objects.get_or_create(association=association, defaults=DEFAULT_TEXTS)
    return schedule


def parse_offsets(text: str) -> list[int]:
    """"-30, 0, 15, 45" → [-30, 0, 15, 45] (sorted, unique); French error otherwise."""
    values = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().replace("+", "")
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise ServiceError(_("« %(part)s » n'est pas un nombre de jours (exemple : -30, 0, 15, 45).") % {
                "part": part}) from None
        if abs(value) > MAX_OFFSET:
            raise ServiceError(_("%(value)s jours : une étape doit rester à moins d'un an de l'échéance.") % {
                "value": value})
        values.append(value)
    if not values:
        raise ServiceError(_("Indiquez au moins une étape (exemple : -30, 0, 15, 45)."))
    return sorted(set(values))


def update_schedule(association: Association, actor: User, data: dict, request=None) -> ReminderSchedule:
    fields = ["enabled", "offsets", "subject_before", "body_before", "subject_after", "body_after",
              "track_opens", "track_clicks"]
    for name in ("subject_before", "body_before", "subject_after", "body_after"):
        if name in data:
            try:
                rendering.validate_template(data[name])
            except rendering.TemplateError as error:
                raise ServiceError(str(error)) from None
    with transaction.atomic():
        schedule = ReminderSchedule.objects.select_for_update().get(pk=schedule_for(association).pk)
        before = {name: getattr(schedule, name) for name in fields}
        for name in fields:
            if name in data:
                setattr(schedule, name, data[name])
        schedule.save()
        changes = audit.diff(schedule, before, fields)
        if changes:
            audit.record(association, actor, "reminders.settings", schedule, changes=changes, request=request,
                         target_label="Relances automatiques")
    return schedule


def _last_end() -> Subquery:
    return Subquery(Membership.objects.filter(member=OuterRef("pk"), status__in=SETTLED)
                    .order_by("-end_date").values("end_date")[:1], output_field=DateField())


def remindable_members(association: Association) -> QuerySet[Member]:
    """Members who may be reminded, annotated with ``last_end`` (end of their last settled period)."""
    renewed = Membership.objects.filter(member=OuterRef("pk"), end_date__gt=OuterRef("last_end"),
                                        status__in=[*SETTLED, MembershipStatus.PENDING])
    return (Member.objects.filter(association=association, anonymized_at=None, email_invalid=False,
                                  mail_opt_out_at__isnull=True)
            .exclude(email="").exclude(status__in=[MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF])
            .annotate(last_end=_last_end()).filter(last_end__isnull=False).exclude(Exists(renewed)))


def _windows(offsets: list[int], today: date) -> list[tuple[int, date, date]]:
    """(step, lowest period end, highest period end) such that the step is the latest one due today."""
    windows = []
    for index, offset in enumerate(offsets):
        high = today - timedelta(days=offset)                      # end + offset <= today
        if index + 1 < len(offsets):
            low = today - timedelta(days=offsets[index + 1]) + timedelta(days=1)  # end + next > today
        else:
            low = high - timedelta(days=6)                           # the last step: a week to catch up
        windows.append((offset, low, high))
    return windows


def queue_due_reminders(association: Association, today: date | None = None) -> int:
    """Queue today's reminders (idempotent: running it twice queues nothing more)."""
    schedule = schedule_for(association)
    if not schedule.enabled or not schedule.offsets:
        return 0
    today = today or timezone.localdate()
    renderers = {}
    queued = skipped = 0
    errors: dict[str, None] = {}
    with transaction.atomic():
        for offset, low, high in _windows(sorted(schedule.offsets), today):
            already = OutgoingMail.objects.filter(member=OuterRef("pk"), kind=MailKind.REMINDER,
                                                  reminder_period_end=OuterRef("last_end"), reminder_offset=offset)
            members = (remindable_members(association).filter(last_end__gte=low, last_end__lte=high)
                       .exclude(Exists(already)).order_by("id"))
            after = offset > 0
            if after not in renderers:
                renderers[after] = Renderer(
                    association, subject=schedule.subject_after if after else schedule.subject_before,
                    body=schedule.body_after if after else schedule.body_before, kind_label="relance d'adhésion",
                    deadline=today, track_opens=schedule.track_opens, track_clicks=schedule.track_clicks)
            renderer = renderers[after]
            now = timezone.now()
            rows = []
            for member in members:
                try:
                    fields = renderer.render(member, _uid(), deadline=member.last_end)
                except ServiceError as error:
                    # One member's message cannot be written (e.g. no tariff for their category): the others
                    # still get theirs; this one is retried tomorrow and the audit log says why.
                    skipped += 1
                    errors.setdefault(str(error), None)
                    continue
                rows.append(OutgoingMail(association=association, kind=MailKind.REMINDER, member=member,
                                         reminder_period_end=member.last_end, reminder_offset=offset,
                                         next_attempt_at=now, created_at=now, **fields))
            OutgoingMail.objects.bulk_create(rows, batch_size=BULK_BATCH, ignore_conflicts=True)
            queued += len(rows)
        if queued or skipped:
            changes = {"queued": queued}
            if skipped:
                changes.update(skipped=skipped, errors=list(errors))
            audit.record(association, None, "reminders.queue", None, changes=changes,
                         target_label=f"{queued} relance(s)" + (f", {skipped} impossible(s)" if skipped else ""))
        if queued:
            enqueue_sending(association)
    return queued


@dataclass
class UpcomingReminder:
    day: date
    offset: int
    member: Member

    @property
    def step_label(self) -> str:
        return step_label(self.offset)


def step_label(offset: int) -> str:
    if offset < 0:
        return ngettext("%(days)s jour avant l'échéance", "%(days)s jours avant l'échéance", -offset) % {
            "days": -offset}
    if offset == 0:
        return _("le jour de l'échéance")
    return ngettext("%(days)s jour après l'échéance", "%(days)s jours après l'échéance", offset) % {"days": offset}


@dataclass
class UpcomingDay:
    day: date
    steps: list[str]
    count: int


def upcoming_by_day(association: Association, today: date | None = None,
                    days: int = UPCOMING_DAYS) -> tuple[list[UpcomingReminder], list[UpcomingDay]]:
    """Every reminder of the next ``days`` days (two queries) and their count per day and step: a civil-year
    association sends hundreds on the same day, which the coordinator reads as one line."""
    upcoming, _total = upcoming_reminders(association, today, days, limit=None)
    summary: dict[date, dict[int, int]] = {}
    for item in upcoming:
        steps = summary.setdefault(item.day, {})
        steps[item.offset] = steps.get(item.offset, 0) + 1
    return upcoming, [UpcomingDay(day, [f"{step_label(offset)} ({count})" for offset, count in sorted(steps.items())],
                                  sum(steps.values())) for day, steps in sorted(summary.items())]


def upcoming_reminders(association: Association, today: date | None = None, days: int = UPCOMING_DAYS,
                       limit: int | None = 200) -> tuple[list[UpcomingReminder], int]:
    """Reminders that the schedule will send in the next ``days`` days (two queries), and their total.

    The same rule as ``queue_due_reminders``: a step goes out on its day, or on the first run after it
    while it is still the latest step due (a member added late gets it today); a step whose turn has
    passed is never sent.
    """
    schedule = schedule_for(association)
    today = today or timezone.localdate()
    offsets = sorted(schedule.offsets)
    if not offsets:
        return [], 0
    last_day = today + timedelta(days=days - 1)
    windows = []  # (step, first period end that still gets it, last period end whose step day is in range)
    for index, offset in enumerate(offsets):
        if index + 1 < len(offsets):
            low = today - timedelta(days=offsets[index + 1]) + timedelta(days=1)  # end + next step > today
        else:
            low = today - timedelta(days=offset + 6)                              # the last step's week
        windows.append((offset, low, last_day - timedelta(days=offset)))          # end + step <= last day
    ranges = Q()
    for _offset, low, high in windows:
        ranges |= Q(last_end__gte=low, last_end__lte=high)
    members = list(remindable_members(association).filter(ranges).select_related("profession")
                   .order_by("last_end", "id"))
    sent = set(OutgoingMail.objects.filter(member__in=[m.pk for m in members], kind=MailKind.REMINDER)
               .values_list("member_id", "reminder_period_end", "reminder_offset"))
    upcoming = []
    for member in members:
        for offset, low, high in windows:
            if low <= member.last_end <= high and (member.pk, member.last_end, offset) not in sent:
                day = max(member.last_end + timedelta(days=offset), today)
                upcoming.append(UpcomingReminder(day, offset, member))
    upcoming.sort(key=lambda item: (item.day, item.member.display_name, item.offset))
    return (upcoming if limit is None else upcoming[:limit]), len(upcoming)
