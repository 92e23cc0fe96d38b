"""Screens of the indicators: the grid (htmx inline editing of one value at a time), indicator forms, the
value page with its target revisions and evidence, the evidence checklist and the scoped downloads.

Thin views: form → service → redirect (or the refreshed cell for htmx). Every object is fetched through
``request.association``: another association's indicator, value or file is a 404. Editing needs
``manage_contract``; viewers and the treasurer see everything read-only (``view_contract``).
"""

from __future__ import annotations

import tablib
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from associations import files
from associations.errors import ServiceError
from associations.exports import export_format
from associations.permissions import has_capability, require
from indicators import selectors, services
from indicators.forms import CellForm, EvidenceForm, IndicatorForm, RevisionForm
from indicators.models import Evidence, Indicator, IndicatorValue, TargetRevision
from missions.calendar import CONTRACT_YEARS
from missions.models import Action, ContractMission


def _field_label(name: str) -> str:
    return {"baseline": _("Valeur initiale"), "target": _("Objectif"), "realised": _("Réalisé")}[name]


def _indicator_or_404(request: HttpRequest, pk: int) -> Indicator:
    indicator = get_object_or_404(
        Indicator.objects.filter(association=request.association)
        .select_related("mission__contract", "mission__mission_type", "feed_action_type"), pk=pk)
    indicator.association = request.association
    indicator.mission.association = request.association
    indicator.mission.contract.association = request.association
    return indicator


def _check_year(year: int) -> None:
    if not 1 <= year <= CONTRACT_YEARS:
        raise Http404


def _contract_or_redirect(request: HttpRequest):
    contract = selectors.current_contract(request.association)
    if contract is None:
        messages.info(request, _("Enregistrez d'abord le contrat ACI."))
    return contract


# --- The grid ----------------------------------------------------------------------------------------


def _export(data: selectors.Grid, chosen: str, slug: str) -> HttpResponse:
    headers, rows = selectors.grid_rows(data)
    dataset = tablib.Dataset(*rows, headers=headers, title=_("Indicateurs"))
    body = dataset.export(chosen)
    content_type = ("text/csv; charset=utf-8" if chosen == "csv"
                    else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if chosen == "csv":
        body = "\ufeff" + body
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="indicateurs-{slug}.{chosen}"'
    return response


@require_GET
@require("view_contract")
def grid(request: HttpRequest, association_slug: str) -> HttpResponse:
    data = selectors.grid(request.association)
    if data.contract is not None and (chosen := export_format(request)):
        return _export(data, chosen, request.association.slug)
    return render(request, "indicators/grid.html", {
        "grid": data, "can_edit": has_capability(request, "manage_contract"),
    })


def _cell_context(request: HttpRequest, refresh: selectors.CellRefresh, *, focus: str = "") -> dict:
    return {"cell": refresh.cell, "mission_year": refresh.mission_year, "oob": True, "focus": focus,
            "can_edit": has_capability(request, "manage_contract")}


@require_GET
@require("view_contract")
def cell(request: HttpRequest, association_slug: str, pk: int, year: int) -> HttpResponse:
    """The cell as displayed (htmx: cancelling an edit; otherwise the value page)."""
    _check_year(year)
    indicator = _indicator_or_404(request, pk)
    if not request.htmx:
        return redirect("aci_cell_detail", association_slug=association_slug, pk=pk, year=year)
    focus = request.GET.get("focus", "")
    return render(request, "indicators/_cell.html",
                  _cell_context(request, selectors.refresh_cell(indicator, year), focus=focus))


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def cell_edit(request: HttpRequest, association_slug: str, pk: int, year: int, field: str) -> HttpResponse:
    """Edit one value of the grid in place: the small form (GET), then the saved cell with the mission's
    achievement out of band (POST); a refused value comes back with its French message (422)."""
    _check_year(year)
    if field not in services.VALUE_FIELDS:
        raise Http404
    indicator = _indicator_or_404(request, pk)
    if field == "realised" and indicator.feed != "manual":
        raise Http404
    value = IndicatorValue.objects.filter(association=request.association, indicator=indicator, year=year).first()
    current = getattr(value, field) if value else None
    form_kwargs = {"field": field, "label": _field_label(field), "unit": indicator.unit,
                   "initial_value": selectors.input_value(current, indicator.unit),
                   "measured_on": value.measured_on if value else None, "auto_id": f"cell-{pk}-{year}-%s"}
    status = 200
    if request.method == "POST":
        form = CellForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                services.save_value(indicator, year, field, form.cleaned_data[field], request.user,
                                    measured_on=form.cleaned_data.get("measured_on"), request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                if not request.htmx:
                    messages.success(request, _("Valeur enregistrée."))
                    return redirect(reverse("aci_grid", kwargs={"association_slug": association_slug})
                                    + f"#cell-{indicator.pk}-{year}")
                return render(request, "indicators/_cell.html",
                              _cell_context(request, selectors.refresh_cell(indicator, year), focus=field))
        status = 422 if request.htmx else 200
    else:
        form = CellForm(**form_kwargs)
    context = {"form": form, "indicator": indicator, "year": indicator.mission.contract.years[year - 1],
               "field": field, "field_label": _field_label(field), "inline": bool(request.htmx)}
    template = "indicators/_cell_form.html" if request.htmx else "indicators/cell_form_page.html"
    return render(request, template, context, status=status)


@require_GET
@require("view_contract")
def cell_detail(request: HttpRequest, association_slug: str, pk: int, year: int) -> HttpResponse:
    """The value page: the three values, who entered them, the target's revisions, the evidence."""
    _check_year(year)
    indicator = _indicator_or_404(request, pk)
    refresh = selectors.refresh_cell(indicator, year)
    value = refresh.cell.value
    revisions = evidence = []
    if value is not None:
        revisions = list(TargetRevision.objects.filter(association=request.association, value=value)
                         .select_related("avenant", "created_by").order_by("-created_at", "-id"))
        evidence = list(Evidence.objects.filter(association=request.association, value=value)
                        .select_related("uploaded_by"))
    entered_by = value.entered_by if value and value.entered_by_id else None
    return render(request, "indicators/cell_detail.html", {
        "indicator": indicator, "cell": refresh.cell, "mission_year": refresh.mission_year, "revisions": revisions,
        "evidence": evidence, "entered_by": entered_by, "can_edit": has_capability(request, "manage_contract"),
        "evidence_form": EvidenceForm(),
    })


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def cell_revise(request: HttpRequest, association_slug: str, pk: int, year: int) -> HttpResponse:
    """Revise the target of an indicator-year by an avenant; the old target is kept."""
    _check_year(year)
    indicator = _indicator_or_404(request, pk)
    contract = indicator.mission.contract
    if request.method == "POST":
        form = RevisionForm(request.POST, association=request.association, contract=contract)
        if form.is_valid():
            try:
                services.revise_target(indicator, year, form.cleaned_data["target"], request.user,
                                       avenant=form.cleaned_data["avenant"], request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("Objectif révisé ; l'ancien objectif est conservé."))
                return redirect("aci_cell_detail", association_slug=association_slug, pk=pk, year=year)
    else:
        form = RevisionForm(association=request.association, contract=contract)
    return render(request, "indicators/revision_form.html", {
        "form": form, "indicator": indicator, "year": contract.years[year - 1],
    })


# --- Indicators --------------------------------------------------------------------------------------


def _indicator_form_page(request: HttpRequest, form: IndicatorForm, indicator: Indicator | None) -> HttpResponse:
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": indicator})


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def indicator_create(request: HttpRequest, association_slug: str) -> HttpResponse:
    contract = _contract_or_redirect(request)
    if contract is None:
        return redirect("aci_grid", association_slug=association_slug)
    if request.method == "POST":
        form = IndicatorForm(request.POST, association=request.association, contract=contract)
        if form.is_valid():
            mission: ContractMission = form.cleaned_data["mission"]
            mission.association = request.association
            try:
                indicator = services.create_indicator(mission, request.user, form.cleaned_data, request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("Indicateur « %(label)s » ajouté.") % {"label": indicator.label})
                return redirect(reverse("aci_grid", kwargs={"association_slug": association_slug})
                                + f"#mission-{mission.pk}")
    else:
        initial = {}
        if str(request.GET.get("mission", "")).isdigit():
            initial["mission"] = int(request.GET["mission"])
        form = IndicatorForm(association=request.association, contract=contract, initial=initial)
    return _indicator_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def indicator_edit(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    indicator = _indicator_or_404(request, pk)
    contract = indicator.mission.contract
    if request.method == "POST":
        form = IndicatorForm(request.POST, association=request.association, contract=contract, indicator=indicator)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "mission"}
            try:
                services.update_indicator(indicator, request.user, data, request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("Indicateur « %(label)s » enregistré.") % {"label": indicator.label})
                return redirect(reverse("aci_grid", kwargs={"association_slug": association_slug})
                                + f"#mission-{indicator.mission_id}")
    else:
        form = IndicatorForm(association=request.association, contract=contract, indicator=indicator)
    return _indicator_form_page(request, form, indicator)


@require_POST
@require("manage_contract")
def indicator_delete(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    indicator = _indicator_or_404(request, pk)
    label = indicator.label
    services.delete_indicator(indicator, request.user, request=request)
    messages.success(request, _("Indicateur « %(label)s » supprimé avec ses valeurs.") % {"label": label})
    return redirect("aci_grid", association_slug=association_slug)


# --- Evidence ----------------------------------------------------------------------------------------


@require_GET
@require("view_contract")
def evidence_checklist(request: HttpRequest, association_slug: str) -> HttpResponse:
    if str(request.GET.get("action", "")).isdigit():  # "Gérer les livrables" of an action's page
        return redirect("aci_evidence_action", association_slug=association_slug, pk=int(request.GET["action"]))
    data, missions = selectors.evidence_checklist(request.association)
    return render(request, "indicators/evidence.html", {
        "grid": data, "missions": missions, "can_edit": has_capability(request, "manage_contract"),
        "missing_total": sum(len(m.missing) for m in missions),
    })


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def evidence_upload(request: HttpRequest, association_slug: str, pk: int, year: int) -> HttpResponse:
    """Attach a file to an indicator-year (from the grid cell or the value page)."""
    _check_year(year)
    indicator = _indicator_or_404(request, pk)
    if request.method == "POST":
        form = EvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.add_evidence(request.association, request.user, form.cleaned_data["file"],
                                      kind=form.cleaned_data["kind"], title=form.cleaned_data["title"],
                                      on=form.cleaned_data["date"], indicator=indicator, year=year,
                                      request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("Livrable déposé."))
                return redirect("aci_cell_detail", association_slug=association_slug, pk=pk, year=year)
    else:
        form = EvidenceForm()
    return render(request, "indicators/evidence_form.html", {
        "form": form, "indicator": indicator, "year": indicator.mission.contract.years[year - 1],
    })


def _evidence_or_404(request: HttpRequest, pk: int) -> Evidence:
    evidence = get_object_or_404(Evidence.objects.filter(association=request.association)
                                 .select_related("value__indicator"), pk=pk)
    evidence.association = request.association
    return evidence


INLINE = {".pdf", ".png", ".jpg", ".jpeg"}


@require_GET
@require("view_contract")
def evidence_download(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """The file, served only through this scoped view (another association's file is a 404)."""
    evidence = _evidence_or_404(request, pk)
    name = evidence.file.name.rsplit("/", 1)[-1]
    inline = any(name.lower().endswith(ext) for ext in INLINE)
    return files.serve(evidence.file, filename=name, attachment=not inline)


@require_POST
@require("manage_contract")
def evidence_delete(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    evidence = _evidence_or_404(request, pk)
    value = evidence.value
    services.delete_evidence(evidence, request.user, request=request)
    messages.success(request, _("Livrable supprimé."))
    if value is not None:
        return redirect("aci_cell_detail", association_slug=association_slug, pk=value.indicator_id, year=value.year)
    if evidence.action_id:
        return redirect("aci_evidence_action", association_slug=association_slug, pk=evidence.action_id)
    return redirect("aci_evidence", association_slug=association_slug)


@require_http_methods(["GET", "POST"])
@require("view_contract")
def evidence_action(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """The documents of an action (sign-in sheet, minutes…): list, and upload for editors."""
    action = get_object_or_404(Action.objects.filter(association=request.association)
                               .select_related("mission__mission_type", "action_type"), pk=pk)
    action.association = request.association
    can_edit = has_capability(request, "manage_contract")
    form = EvidenceForm()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = EvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.add_evidence(request.association, request.user, form.cleaned_data["file"],
                                      kind=form.cleaned_data["kind"], title=form.cleaned_data["title"],
                                      on=form.cleaned_data["date"], action=action, request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("Livrable déposé."))
                return redirect("aci_evidence_action", association_slug=association_slug, pk=pk)
    evidence = list(Evidence.objects.filter(association=request.association, action=action)
                    .select_related("uploaded_by"))
    return render(request, "indicators/evidence_action.html", {
        "action": action, "evidence": evidence, "form": form, "can_edit": can_edit,
    })
