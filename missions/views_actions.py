"""Screens of the actions registry under /a/<slug>/aci/actions/: the list (filters, sort, CSV/XLSX export,
totals per contract year), the form, the action page, the month calendar and the ``.ics`` download.

Thin views: form → service → redirect. Every object comes from a queryset filtered on
``request.association``: another association's action or mission is a 404 (or a form error). Viewers and
the treasurer (``view_contract``) see everything read-only; editors (``manage_contract``) write.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig
from icalendar import Calendar, Event

from associations.errors import ServiceError
from associations.exports import export_format, export_response
from associations.permissions import has_capability, require
from missions import selectors_actions as selectors
from missions import services_actions as services
from missions.forms_actions import ActionFilter, ActionForm
from missions.models import Action
from missions.tables_actions import ActionTable

PER_PAGE = 50
MONTH_PARAMETER = "mois"


def _action_or_404(request: HttpRequest, pk: int) -> Action:
    action = get_object_or_404(
        Action.objects.filter(association=request.association)
        .select_related("mission__mission_type", "mission__contract", "action_type", "created_by"),
        pk=pk,
    )
    action.association = request.association  # same row: spares the services a query
    return action


# --- List ------------------------------------------------------------------------------------------


@require_GET
@require("view_contract")
def action_list(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    contract = selectors.current_contract(association)  # query 1
    base = selectors.action_queryset(association)
    filterset = ActionFilter(request.GET or None, queryset=base, request=request, contract=contract)
    rows = base.none() if filterset.is_bound and not filterset.is_valid() else filterset.qs
    table = ActionTable(rows, association_slug=association.slug)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    if response := export_response(request, table, filename=f"actions-aci-{association.slug}",
                                   title=_("Actions ACI")):
        return response
    summary = None
    if contract is not None and export_format(request) is None:
        summary = selectors.action_summary(contract, list(filterset.filters["mission"].queryset))
    return render(request, "missions/actions/action_list.html", {
        "filter": filterset, "table": table, "contract": contract, "summary": summary,
        "can_manage": has_capability(request, "manage_contract"),
    })


# --- Create, edit, delete ------------------------------------------------------------------------------


def _initial_date(request: HttpRequest) -> date | None:
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return None


def _action_form(request: HttpRequest, action: Action | None) -> HttpResponse:
    association = request.association
    contract = selectors.current_contract(association)
    instance = action or Action(association=association)
    status = 200
    if request.method == "POST":
        form = ActionForm(request.POST, association=association, contract=contract, instance=instance)
        if form.is_valid():
            try:
                if action is None:
                    saved = services.create_action(association, request.user, form.service_data(),
                                                   form.participations(), request=request)
                else:
                    stored = _action_or_404(request, action.pk)  # the form changed ``instance``
                    saved = services.update_action(stored, request.user, form.service_data(), form.participations(),
                                                   request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("L'action « %(title)s » a été enregistrée.") % {"title": saved.title})
                return redirect("aci_action_detail", association_slug=association.slug, pk=saved.pk)
        status = 400
    else:
        initial = {}
        if action is None and (day := _initial_date(request)):
            initial["date"] = day
        form = ActionForm(association=association, contract=contract, instance=instance, initial=initial)
    return render(request, "missions/actions/action_form.html", {
        "form": form, "action": action, "contract": contract,
    }, status=status)


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def action_create(request: HttpRequest, association_slug: str) -> HttpResponse:
    return _action_form(request, None)


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def action_edit(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    return _action_form(request, _action_or_404(request, pk))


@require_GET
@require("view_contract")
def action_detail(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    action = _action_or_404(request, pk)
    participations = selectors.participations_of([action])[action.pk]
    year = action.mission.contract.year_of(action.date)
    documents = list(action.evidence.all()) if hasattr(action, "evidence") else []
    return render(request, "missions/actions/action_detail.html", {
        "action": action, "participations": participations, "year": year,
        "total": sum(p.count for p in participations), "documents": documents,
        "can_manage": has_capability(request, "manage_contract"),
    })


@require_POST
@require("manage_contract")
def action_delete(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    action = _action_or_404(request, pk)
    try:
        services.delete_action(action, request.user, request=request)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("aci_action_detail", association_slug=association_slug, pk=action.pk)
    messages.success(request, _("L'action « %(title)s » a été supprimée.") % {"title": action.title})
    return redirect("aci_actions", association_slug=association_slug)


# --- Calendar --------------------------------------------------------------------------------------------


def _month(request: HttpRequest) -> date:
    """The month asked for as ``?mois=2025-03`` (this month when absent or malformed)."""
    value = request.GET.get(MONTH_PARAMETER, "")
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@require_GET
@require("view_contract")
def calendar_month(request: HttpRequest, association_slug: str) -> HttpResponse:
    month = selectors.month_of(request.association, _month(request))
    return render(request, "missions/actions/calendar.html", {
        "month": month, "today": timezone.localdate(), "month_parameter": MONTH_PARAMETER,
        "can_manage": has_capability(request, "manage_contract"),
        "weekdays": [_("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi"), _("dimanche")],
    })


def _description(action: Action) -> str:
    lines = [
        _("Type : %(type)s") % {"type": action.action_type.label},
        _("Mission : %(mission)s") % {"mission": action.mission.mission_type.label},
        _("Participants : %(count)s") % {"count": action.participants},
    ]
    if action.partners:
        lines.append(_("Partenaires : %(partners)s") % {"partners": action.partners})
    if action.description:
        lines.extend(["", action.description])
    return "\n".join(lines)


def action_uid(action: Action) -> str:
    """Stable per action (the slug may change, the ids do not)."""
    return f"aci-action-{action.pk}-a{action.association_id}@cpts-platform"


def build_calendar(association, actions: list[Action]) -> bytes:
    """The actions as an iCalendar file: one all-day event each."""
    feed = Calendar()
    feed.add("prodid", "-//Plateforme CPTS//Actions ACI//FR")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", _("Actions ACI — %(name)s") % {"name": association.name})
    feed.add("x-wr-timezone", "Europe/Paris")
    for action in actions:
        event = Event()
        event.add("uid", action_uid(action))
        event.add("dtstamp", action.created_at)
        event.add("dtstart", action.date)
        event.add("dtend", action.date + timedelta(days=1))
        event.add("summary", action.title)
        if action.place:
            event.add("location", action.place)
        event.add("description", _description(action))
        event.add("categories", [action.action_type.label])
        event.add("url", settings.SITE_URL + reverse("aci_action_detail", kwargs={
            "association_slug": association.slug, "pk": action.pk}))
        event.add("transp", "TRANSPARENT")
        feed.add_component(event)
    return feed.to_ical()


@require_GET
@require("view_contract")
def calendar_ics(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    response = HttpResponse(build_calendar(association, selectors.feed_actions(association)),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="actions-aci-{association.slug}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
