"""Automatic reminders screen (settings, upcoming reminders, last reminder e-mails) and the e-mail consent
action of the member page. Thin views: form → service → redirect; everything through
``request.association``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from associations.campaigns import reminders
from associations.campaigns import services as campaign_services
from associations.campaigns.forms_reminders import ReminderScheduleForm
from associations.models import MailKind, Member, OutgoingMail
from associations.permissions import has_capability, require
from associations.services import ServiceError

RECENT_LIMIT = 50
UPCOMING_LISTED = 200  # names listed under the per-day summary
MAIL_BODY_FIELDS = ("body_text", "body_html", "headers")


def recent_reminder_mails(association, limit: int = RECENT_LIMIT) -> list[OutgoingMail]:
    """The last reminder e-mails, newest first, with their member (one query)."""
    return list(OutgoingMail.objects.filter(association=association, kind=MailKind.REMINDER)
                .select_related("member").defer(*MAIL_BODY_FIELDS).order_by("-created_at", "-id")[:limit])


def _render_settings(request: HttpRequest, form: ReminderScheduleForm | None = None) -> HttpResponse:
    """Schedule, upcoming reminders of the next 30 days and last reminder e-mails, in a fixed number of
    queries: schedule; remindable members (+ profession); reminders already queued for them; last e-mails."""
    association = request.association
    schedule = reminders.schedule_for(association)
    can_manage = has_capability(request, "manage_campaigns")
    if form is None:
        form = ReminderScheduleForm(initial=ReminderScheduleForm.initial_for(schedule), read_only=not can_manage)
    upcoming, upcoming_days = reminders.upcoming_by_day(association)
    upcoming_total = len(upcoming)
    upcoming = upcoming[:UPCOMING_LISTED]
    recent = recent_reminder_mails(association)
    for mail in recent:
        mail.step_label = reminders.step_label(mail.reminder_offset) if mail.reminder_offset is not None else "—"
    return render(request, "reminders/settings.html", {
        "schedule": schedule,
        "form": form,
        "can_manage": can_manage,
        "upcoming": upcoming,
        "upcoming_total": upcoming_total,
        "upcoming_by_day": upcoming_days,
        "upcoming_days": reminders.UPCOMING_DAYS,
        "recent": recent,
        "recent_limit": RECENT_LIMIT,
        "steps": [reminders.step_label(offset) for offset in sorted(schedule.offsets)],
    })


@require_http_methods(["GET", "POST"])
@require("view_campaigns")
def reminder_settings(request: HttpRequest, association_slug: str) -> HttpResponse:
    if request.method != "POST":
        return _render_settings(request)
    if not has_capability(request, "manage_campaigns"):
        raise PermissionDenied
    form = ReminderScheduleForm(request.POST)
    if form.is_valid():
        try:
            reminders.update_schedule(request.association, request.user, form.cleaned_data, request=request)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Les relances automatiques ont été enregistrées."))
            return redirect("reminder_settings", association_slug=association_slug)
    return _render_settings(request, form)


TOGGLES = {"pause": False, "resume": True}


@require_POST
@require("manage_campaigns")
def reminder_toggle(request: HttpRequest, association_slug: str) -> HttpResponse:
    action = request.POST.get("action", "")
    if action not in TOGGLES:
        messages.error(request, _("Action inconnue : choisissez « mettre en pause » ou « reprendre »."))
        return redirect("reminder_settings", association_slug=association_slug)
    enabled = TOGGLES[action]
    schedule = reminders.schedule_for(request.association)
    if schedule.enabled == enabled:
        messages.info(request, "Les relances sont déjà actives." if enabled else "Les relances sont déjà en pause.")
    else:
        reminders.update_schedule(request.association, request.user, {"enabled": enabled}, request=request)
        messages.success(request, "Relances reprises : les relances dues partiront au prochain passage quotidien "
                                  "(8 h 30)." if enabled else
                         "Relances en pause : aucune relance ne partira jusqu'à leur reprise.")
    return redirect("reminder_settings", association_slug=association_slug)


@require_POST
@require("manage_members")
def member_resubscribe(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """Undo an unsubscription, only when the member asks for it (consent is theirs)."""
    member = get_object_or_404(Member.objects.filter(association=request.association), pk=pk)
    member.association = request.association  # same row: spares the service a query
    if member.anonymized_at:
        messages.error(request, _("Cet adhérent est anonymisé."))
    elif member.mail_opt_out_at is None:
        messages.info(request, _("%(display_name)s n'est pas désinscrit·e des e-mails.") % {
            "display_name": member.display_name})
    else:
        campaign_services.resubscribe(member, request.user, request=request)
        messages.success(request, _("%(display_name)s recevra de nouveau les campagnes et les relances.") % {
            "display_name": member.display_name})
    return redirect("member_detail", association_slug=association_slug, pk=pk)
