"""Screens of the ACI contract under /a/<slug>/aci/: the contract summary (with the deadline timeline), its
creation and edit, avenants, the PDFs, the missions list with their deadlines, and each mission's edit,
status and deadline move.

Thin views: form → service → redirect with a message. Objects come from querysets filtered on
``request.association`` (another association's id is a 404). A form with an error re-renders with the
message next to the field and status 400; nothing is written. Viewers and the treasurer read only.
"""

from __future__ import annotations

import django_tables2 as tables
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from associations import files
from associations.exports import export_response
from associations.permissions import has_capability, require
from associations.services import ServiceError
from missions import selectors, services
from missions.forms import AvenantForm, ContractForm, DeadlineMoveForm, MissionForm, MissionStatusForm
from missions.models import Avenant, Contract, ContractMission


def _contract_or_404(request: HttpRequest) -> Contract:
    contract = selectors.current_contract(request.association)
    if contract is None:
        from django.http import Http404

        raise Http404
    return contract


def _mission_or_404(request: HttpRequest, pk: int) -> ContractMission:
    return get_object_or_404(
        ContractMission.objects.filter(association=request.association)
        .select_related("contract", "mission_type", "referent", "owner"), pk=pk)


# --- Contract -----------------------------------------------------------------------------------------


@require_GET
@require("view_contract")
def aci_contract(request: HttpRequest, association_slug: str) -> HttpResponse:
    """The contract summary with its deadline timeline; a creation form when there is no contract yet."""
    summary = selectors.contract_summary(request.association)
    can_manage = has_capability(request, "manage_contract")
    if summary is None:
        form = ContractForm(association=request.association) if can_manage else None
        return render(request, "missions/contract_create.html", {"form": form, "can_manage": can_manage})
    return render(request, "missions/contract.html", {
        **summary, "timeline_svg": selectors.deadline_timeline_svg(summary), "can_manage": can_manage,
    })


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def aci_contract_create(request: HttpRequest, association_slug: str) -> HttpResponse:
    if selectors.current_contract(request.association) is not None:
        messages.info(request, _("Le contrat existe déjà : modifiez-le ou ajoutez un avenant."))
        return redirect("aci_contract", association_slug=association_slug)
    form = ContractForm(request.POST or None, request.FILES or None, association=request.association)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_contract(request.association, request.user, form.service_data(),
                                     complementary=form.cleaned_data["complementary"],
                                     document=form.cleaned_data.get("document"), request=request)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Contrat enregistré avec ses missions."))
            return redirect("aci_contract", association_slug=association_slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "missions/contract_create.html", {"form": form, "can_manage": True}, status=status)


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def aci_contract_edit(request: HttpRequest, association_slug: str) -> HttpResponse:
    contract = _contract_or_404(request)
    form = ContractForm(request.POST or None, request.FILES or None, instance=contract,
                        association=request.association)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contract(contract, request.user, form.service_data(),
                                     add_complementary=form.cleaned_data["complementary"],
                                     document=form.cleaned_data.get("document"), request=request)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Contrat modifié."))
            return redirect("aci_contract", association_slug=association_slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "missions/contract_form.html", {"form": form, "contract": contract}, status=status)


@require_GET
@require("view_contract")
def aci_contract_document(request: HttpRequest, association_slug: str) -> HttpResponse:
    contract = _contract_or_404(request)
    return files.serve(contract.document, filename=f"contrat-aci-{contract.signed_on:%Y-%m-%d}.pdf",
                       content_type="application/pdf")


@require_http_methods(["GET", "POST"])
@require("manage_contract")
def aci_avenant_create(request: HttpRequest, association_slug: str) -> HttpResponse:
    contract = _contract_or_404(request)
    form = AvenantForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            avenant = services.add_avenant(contract, request.user, signed_on=data["signed_on"],
                                           summary=data["summary"], number=data.get("number"),
                                           document=data.get("document"), request=request)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Avenant n° %(number)s enregistré.") % {"number": avenant.number})
            return redirect("aci_contract", association_slug=association_slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "missions/avenant_form.html", {"form": form, "contract": contract}, status=status)


@require_GET
@require("view_contract")
def aci_avenant_document(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    avenant = get_object_or_404(Avenant.objects.filter(association=request.association), pk=pk)
    return files.serve(avenant.document, filename=f"avenant-{avenant.number}-{avenant.signed_on:%Y-%m-%d}.pdf",
                       content_type="application/pdf")


# --- Missions -----------------------------------------------------------------------------------------


class MissionExportTable(tables.Table):
    """The missions list as exported (CSV/XLSX): one row per mission, both deadlines and their state."""

    mission = tables.Column(verbose_name=gettext_lazy("Mission"), accessor="mission__mission_type__label")
    kind = tables.Column(verbose_name=gettext_lazy("Type"), accessor="mission__mission_type__get_kind_display")
    status = tables.Column(verbose_name=gettext_lazy("État"), accessor="mission__get_status_display")
    referent = tables.Column(verbose_name=gettext_lazy("Référent PS"), accessor="mission__referent", default="")
    owner = tables.Column(verbose_name=gettext_lazy("Suivie par"), accessor="mission__owner__display_name",
                          default="")
    start_due = tables.Column(verbose_name=gettext_lazy("Échéance de démarrage"), accessor="start__due", default="")
    start_state = tables.Column(verbose_name=gettext_lazy("État du démarrage"), accessor="start__state_label")
    started_on = tables.Column(verbose_name=gettext_lazy("Démarrée le"), accessor="mission__started_on", default="")
    deployment_due = tables.Column(verbose_name=gettext_lazy("Échéance de déploiement"), accessor="deployment__due",
                                   default="")
    deployment_state = tables.Column(verbose_name=gettext_lazy("État du déploiement"),
                                     accessor="deployment__state_label")
    deployed_on = tables.Column(verbose_name=gettext_lazy("Déployée le"), accessor="mission__deployed_on",
                                default="")

    class Meta:
        orderable = False


@require_GET
@require("view_contract")
def aci_missions(request: HttpRequest, association_slug: str) -> HttpResponse:
    """Missions of the contract with status, référent, both deadlines and their state (fixed queries)."""
    contract = selectors.current_contract(request.association)
    rows = selectors.mission_rows(contract) if contract else []
    exported = export_response(request, MissionExportTable(rows), filename="missions-aci",
                               title=_("Missions du contrat"))
    if exported is not None:
        return exported
    return render(request, "missions/mission_list.html", {
        "contract": contract, "rows": rows, "can_manage": has_capability(request, "manage_contract"),
    })


def _render_mission(request, mission, *, form=None, status_form=None, deadline_form=None, status=200):
    association = request.association
    contract = mission.contract
    row = selectors.mission_row(
        selectors.missions_queryset(contract).get(pk=mission.pk), contract.signed_on)
    can_manage = has_capability(request, "manage_contract")
    if can_manage:
        form = form or MissionForm(association=association, initial={
            "referent": mission.referent_id, "owner": mission.owner_id, "start_months": mission.start_months,
            "deployment_months": mission.deployment_months})
        status_form = status_form or MissionStatusForm(initial={
            "status": mission.status, "started_on": mission.started_on, "deployed_on": mission.deployed_on})
        deadline_form = deadline_form or DeadlineMoveForm(association=association, contract=contract)
    return render(request, "missions/mission_detail.html", {
        "mission": row.mission, "row": row, "contract": contract, "can_manage": can_manage, "form": form,
        "status_form": status_form, "deadline_form": deadline_form,
    }, status=status)


@require_GET
@require("view_contract")
def aci_mission_detail(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    return _render_mission(request, _mission_or_404(request, pk))


@require_http_methods(["POST"])
@require("manage_contract")
def aci_mission_edit(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    mission = _mission_or_404(request, pk)
    form = MissionForm(request.POST, association=request.association)
    if form.is_valid():
        try:
            services.update_mission(mission, request.user, form.cleaned_data, request=request)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Mission modifiée."))
            return redirect("aci_mission_detail", association_slug=association_slug, pk=mission.pk)
    return _render_mission(request, mission, form=form, status=400)


@require_http_methods(["POST"])
@require("manage_contract")
def aci_mission_status(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    mission = _mission_or_404(request, pk)
    form = MissionStatusForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.set_mission_status(mission, request.user, data["status"], started_on=data.get("started_on"),
                                        deployed_on=data.get("deployed_on"), request=request)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("État de la mission enregistré."))
            return redirect("aci_mission_detail", association_slug=association_slug, pk=mission.pk)
    mission.refresh_from_db()
    return _render_mission(request, mission, status_form=form, status=400)


@require_http_methods(["POST"])
@require("manage_contract")
def aci_mission_deadline(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    mission = _mission_or_404(request, pk)
    form = DeadlineMoveForm(request.POST, association=request.association, contract=mission.contract)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.move_deadline(mission, request.user, data["kind"], data["due_on"], avenant=data.get("avenant"),
                                   reason=data.get("reason", ""), request=request)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Échéance reportée ; l'historique des reports reste visible."))
            return redirect("aci_mission_detail", association_slug=association_slug, pk=mission.pk)
    return _render_mission(request, mission, deadline_form=form, status=400)
