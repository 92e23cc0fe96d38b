"""Membership administration screens under /a/<slug>/adhesions/: the "à valider" queue, the membership
settings (period, bank details, tariffs, collèges, documents) and the RGPD screens (lapsed members,
anonymisation, export of one member's data).

Thin views: form → service → redirect with a message. Objects are fetched through querysets filtered on
``request.association`` (another association's id is a 404). A form with an error re-renders its page
with the error next to the field and status 400; nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
import re

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Count, Prefetch
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from associations import files
from associations.membership import admin_services, services
from associations.membership.forms_admin import (
    ApplicationDecisionForm,
    CollegeForm,
    DocumentUploadForm,
    EraseForm,
    MembershipSettingsForm,
    TariffForm,
    ValidatePaymentForm,
)
from associations.models import (
    ApplicationStatus,
    AssociationDocument,
    College,
    DocumentKind,
    Member,
    Membership,
    MembershipStatus,
    Tariff,
)
from associations.permissions import has_capability, require
from associations.services import ServiceError


def _require_any(request: HttpRequest, *capabilities: str) -> None:
    """403 unless the caller holds at least one of ``capabilities`` (the middleware already gave 404
    to anyone without a role in the association)."""
    if not any(has_capability(request, capability) for capability in capabilities):
        raise PermissionDenied


def _row_auto_id(pk: int) -> str:
    """Unique ids for the same small form repeated on every row of a table."""
    return f"id_%s_{pk}"


# --- "À valider" queue ------------------------------------------------------------------------------


def _render_queue(request: HttpRequest, *, bound: dict[int, ValidatePaymentForm] | None = None,
                  status: int = 200) -> HttpResponse:
    association = request.association
    bound = bound or {}
    # Query 1: memberships waiting for the declared transfer/cheque, with their member.
    pending = list(
        Membership.objects.filter(association=association, status=MembershipStatus.PENDING)
        .select_related("member").order_by("documents_accepted_at", "id")
    )
    # Query 2: applications waiting for a decision, with the profession.
    applications = list(
        Member.objects.filter(association=association, application_status=ApplicationStatus.PENDING,
                              anonymized_at=None)
        .select_related("profession").order_by("created_at", "id")
    )
    rows = [(m, bound.get(m.pk) or ValidatePaymentForm(auto_id=_row_auto_id(m.pk))) for m in pending]
    return render(request, "membership_admin/queue.html", {
        "pending_rows": rows, "applications": applications,
        "can_validate": has_capability(request, "validate_payments"),
        "can_decide": has_capability(request, "manage_members"),
    }, status=status)


@require_GET
def membership_queue(request: HttpRequest, association_slug: str) -> HttpResponse:
    """Payments declared online to validate, and applications to accept or refuse."""
    _require_any(request, "validate_payments", "manage_members")
    return _render_queue(request)


@require_POST
@require("validate_payments")
def membership_validate(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.filter(association=request.association).select_related("member"), pk=pk
    )
    form = ValidatePaymentForm(request.POST, auto_id=_row_auto_id(membership.pk))
    if not form.is_valid():
        return _render_queue(request, bound={membership.pk: form}, status=400)
    try:
        services.validate_pending_membership(membership, request.user, paid_on=form.cleaned_data["paid_on"],
                                             request=request)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        member = membership.member
        text = f"Paiement validé : l'adhésion {membership.period_label} de {member} est réglée."
        if member.email and not member.email_invalid:
            text += f" L'attestation d'adhésion est envoyée à {member.email}."
        messages.success(request, text)
    return redirect("membership_queue", association_slug=association_slug)


@require_POST
@require("manage_members")
def application_decide(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    member = get_object_or_404(Member.objects.filter(association=request.association, anonymized_at=None), pk=pk)
    form = ApplicationDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["decision"][0])
        return redirect("membership_queue", association_slug=association_slug)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        services.decide_application(member, request.user, accept, request=request)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Demande d'adhésion de {member} acceptée." if accept else
                         f"Demande d'adhésion de {member} refusée : son adhésion en attente est annulée.")
    return redirect("membership_queue", association_slug=association_slug)


# --- Membership settings -----------------------------------------------------------------------------


def _render_settings(request: HttpRequest, *, status: int = 200, settings_form=None, tariff_form=None,
                     add_form=None, edit_forms: dict[int, CollegeForm] | None = None,
                     delete_errors: dict[int, str] | None = None, upload_form=None) -> HttpResponse:
    association = request.association
    edit_forms = edit_forms or {}
    delete_errors = delete_errors or {}
    # Query 1: tariffs.
    tariffs = {t.category: t.amount for t in Tariff.objects.filter(association=association)}
    # Query 2: collèges with the number of members in each.
    colleges = list(
        College.objects.filter(association=association).annotate(member_count=Count("member")).order_by("order",
                                                                                                       "name")
    )
    college_rows = [
        (college,
         edit_forms.get(college.pk) or CollegeForm(initial={"name": college.name}, auto_id=_row_auto_id(college.pk)),
         delete_errors.get(college.pk))
        for college in colleges
    ]
    # Query 3: the latest document of each kind (None when never uploaded).
    latest = {document.kind: document for document in admin_services.latest_documents(association)}
    documents = [(label, latest.get(kind)) for kind, label in DocumentKind.choices]
    return render(request, "membership_admin/settings.html", {
        "settings_form": settings_form or MembershipSettingsForm(initial=MembershipSettingsForm.initial_for(
            association)),
        "tariff_form": tariff_form or TariffForm(initial=tariffs),
        "tariffs_missing": len(tariffs) < 3,
        "college_rows": college_rows,
        "add_form": add_form or CollegeForm(auto_id="id_new_%s"),
        "documents": documents,
        "upload_form": upload_form or DocumentUploadForm(),
    }, status=status)


def _back_to_settings(association_slug: str, anchor: str) -> HttpResponse:
    return redirect(reverse("membership_settings", kwargs={"association_slug": association_slug}) + f"#{anchor}")


@require_http_methods(["GET", "POST"])
@require("manage_association")
def membership_settings(request: HttpRequest, association_slug: str) -> HttpResponse:
    if request.method != "POST":
        return _render_settings(request)
    form = MembershipSettingsForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, settings_form=form, status=400)
    admin_services.update_membership_settings(request.association, request.user, form.cleaned_data, request=request)
    messages.success(request, _("Les règles d'adhésion ont été enregistrées."))
    return _back_to_settings(association_slug, "regles")


@require_POST
@require("manage_association")
def tariff_save(request: HttpRequest, association_slug: str) -> HttpResponse:
    form = TariffForm(request.POST)
    if form.is_valid():
        try:
            admin_services.save_tariffs(request.association, request.user, form.amounts(), request=request)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Les tarifs ont été enregistrés."))
            return _back_to_settings(association_slug, "tarifs")
    return _render_settings(request, tariff_form=form, status=400)


@require_POST
@require("manage_association")
def college_add(request: HttpRequest, association_slug: str) -> HttpResponse:
    form = CollegeForm(request.POST, auto_id="id_new_%s")
    if form.is_valid():
        try:
            college = admin_services.create_college(request.association, request.user, form.cleaned_data["name"],
                                                    request=request)
        except ServiceError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("Collège « %(name)s » ajouté.") % {"name": college.name})
            return _back_to_settings(association_slug, "colleges")
    return _render_settings(request, add_form=form, status=400)


@require_POST
@require("manage_association")
def college_edit(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    college = get_object_or_404(College.objects.filter(association=request.association), pk=pk)
    form = CollegeForm(request.POST, auto_id=_row_auto_id(college.pk))
    if form.is_valid():
        try:
            admin_services.rename_college(college, request.user, form.cleaned_data["name"], request=request)
        except ServiceError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("Collège renommé « %(name)s ».") % {"name": college.name})
            return _back_to_settings(association_slug, "colleges")
    return _render_settings(request, edit_forms={college.pk: form}, status=400)


@require_POST
@require("manage_association")
def college_delete(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    college = get_object_or_404(College.objects.filter(association=request.association), pk=pk)
    name = college.name
    try:
        admin_services.delete_college(college, request.user, request=request)
    except ServiceError as error:
        return _render_settings(request, delete_errors={college.pk: str(error)}, status=400)
    messages.success(request, _("Collège « %(name)s » supprimé.") % {"name": name})
    return _back_to_settings(association_slug, "colleges")


@require_POST
@require("manage_association")
def document_upload(request: HttpRequest, association_slug: str) -> HttpResponse:
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = admin_services.upload_document(request.association, request.user, form.cleaned_data["kind"],
                                                      form.cleaned_data["file"], request=request)
        except ServiceError as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, _("%(kind)s : nouvelle version déposée.") % {"kind": document.get_kind_display()})
            return _back_to_settings(association_slug, "documents")
    return _render_settings(request, upload_form=form, status=400)


@require_GET
def association_document(request: HttpRequest, association_slug: str, pk: int) -> FileResponse:
    """A statutes / règlement intérieur / RGPD notice PDF, served only through this scoped view.

    Staff read them; members too, since they accept them when joining or renewing.
    """
    _require_any(request, "view_members", "member_space")
    document = get_object_or_404(AssociationDocument.objects.filter(association=request.association), pk=pk)
    return files.serve(document.file, content_type="application/pdf", cache="private, max-age=300")


# --- RGPD ---------------------------------------------------------------------------------------------


def _render_lapsed(request: HttpRequest, *, bound: dict[int, EraseForm] | None = None,
                   status: int = 200) -> HttpResponse:
    association = request.association
    bound = bound or {}
    # Query 1: lapsed members; query 2: their memberships, latest first (prefetch).
    members = list(
        services.lapsed_members(association).order_by("last_name", "first_name", "structure_name", "id")
        .prefetch_related(Prefetch(
            "memberships",
            queryset=Membership.objects.filter(association=association).order_by("-end_date", "-id"),
            to_attr="latest_memberships",
        ))
    )
    rows = [
        (member, member.latest_memberships[0] if member.latest_memberships else None,
         bound.get(member.pk) or EraseForm(auto_id=_row_auto_id(member.pk)))
        for member in members
    ]
    return render(request, "membership_admin/lapsed.html", {
        "rows": rows, "years": association.lapsed_review_years,
        "can_export": has_capability(request, "view_members"),
    }, status=status)


@require_GET
@require("erase_members")
def lapsed_members(request: HttpRequest, association_slug: str) -> HttpResponse:
    return _render_lapsed(request)


@require_POST
@require("erase_members")
def member_erase(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    member = get_object_or_404(Member.objects.filter(association=request.association), pk=pk)
    if member.anonymized_at:
        messages.info(request, _("L'adhérent #%(pk)s est déjà anonymisé.") % {"pk": member.pk})
        return redirect("lapsed_members", association_slug=association_slug)
    form = EraseForm(request.POST, auto_id=_row_auto_id(member.pk))
    if not form.is_valid():
        if services.lapsed_members(request.association).filter(pk=member.pk).exists():
            return _render_lapsed(request, bound={member.pk: form}, status=400)
        # The member is not on the review list (erasure asked from another page): say it at the top.
        messages.error(request, form.errors["confirm"][0])
        return redirect("lapsed_members", association_slug=association_slug)
    name = str(member)
    services.erase_member(member, request.user, request=request)
    messages.success(request,
        _("%(name)s a été anonymisé·e. Ses adhésions et les montants réglés sont conservés pour la comptabilité.") % {
        "name": name})
    return redirect("lapsed_members", association_slug=association_slug)


EXPORT_MEMBERSHIP_COLUMNS = [
    ("period", "période"), ("amount_due", "montant dû"), ("amount_paid", "montant réglé"),
    ("status", "statut de l'adhésion"), ("paid_on", "date de paiement"), ("number", "numéro d'attestation"),
]
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s.,]+$")


def _csv_cell(value) -> str:
    """Neutralise spreadsheet formulas (=, +, -, @) in text typed by people; numbers stay as they are."""
    text = "" if value is None else str(value)
    if _FORMULA.match(text) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _member_csv(data: dict) -> str:
    identity = [key for key in data if key != "memberships"]
    labels = []
    for key in identity:
        try:
            labels.append(str(Member._meta.get_field(key).verbose_name))
        except FieldDoesNotExist:  # keys that are not model fields keep their name
            labels.append(key)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(labels + [label for _key, label in EXPORT_MEMBERSHIP_COLUMNS] + ["paiements"])
    base = [_csv_cell(data[key]) for key in identity]
    memberships = data["memberships"] or [None]
    for membership in memberships:
        if membership is None:
            writer.writerow(base + [""] * (len(EXPORT_MEMBERSHIP_COLUMNS) + 1))
            continue
        payments = "; ".join(f"{p['date']} {p['amount']} € {p['method']}" for p in membership["payments"])
        writer.writerow(base + [_csv_cell(membership[key]) for key, _label in EXPORT_MEMBERSHIP_COLUMNS]
                        + [payments])
    return buffer.getvalue()


@require_GET
@require("view_members")
def member_export(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """Everything the association holds about one member (RGPD access and portability), JSON or CSV."""
    export_format = request.GET.get("format", "json")
    if export_format not in ("json", "csv"):
        return HttpResponseBadRequest("Format d'export inconnu : choisissez json ou csv.",
                                      content_type="text/plain; charset=utf-8")
    member = get_object_or_404(
        Member.objects.filter(association=request.association).select_related("profession", "college",
                                                                              "practice_structure"), pk=pk
    )
    data = services.export_member_data(member)
    admin_services.record_member_export(member, request.user, export_format, request=request)
    filename = f"adherent-{member.pk}-{timezone.localdate():%Y%m%d}.{export_format}"
    if export_format == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        # The BOM lets spreadsheet software read the accents as UTF-8.
        response = HttpResponse("\ufeff" + _member_csv(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
