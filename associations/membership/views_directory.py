"""The coordinator's member directory: list (filters, search, export, bulk actions), member form,
member page (memberships, payments, history) and its actions. Thin views: form → service → redirect.

Every object is fetched through ``request.association``: an id of another association is a 404 (in a
URL), a form error (in a choice field) or simply not found (in a bulk selection).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, Sum
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from associations import files
from associations.exports import export_response
from associations.membership import services
from associations.membership.filters import MemberFilter
from associations.membership.forms import (
    BULK_COLLEGE,
    BULK_PAYMENT,
    BULK_RENEWAL,
    BulkActionForm,
    MemberForm,
    PaymentForm,
)
from associations.membership.tables import (
    MEMBER_STATUS_BADGES,
    MEMBERSHIP_STATUS_BADGES,
    MemberTable,
    member_activity,
    member_directory_queryset,
)
from associations.models import (
    AuditLog,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    OutgoingMail,
    Payment,
)
from associations.models.membership import ZERO
from associations.money import format_euros
from associations.permissions import has_capability, require
from associations.services import ServiceError

PER_PAGE = 50
HISTORY_LIMIT = 100
MAILS_LIMIT = 10
RPPS_TAKEN = "Ce numéro RPPS est déjà celui d'un autre adhérent de l'association."

def _members(request: HttpRequest):
    return Member.objects.filter(association=request.association)


def _member_or_404(request: HttpRequest, pk: int) -> Member:
    member = get_object_or_404(_members(request).select_related("profession", "college", "practice_structure"),
                               pk=pk)
    member.association = request.association  # same row: spares services a query
    return member


def _back(request: HttpRequest, name: str, **kwargs) -> HttpResponse:
    """Redirect to ``next`` when it is a page of this association, else to the named URL."""
    target = request.POST.get("next", "")
    prefix = f"/a/{request.association.slug}/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(name, association_slug=request.association.slug, **kwargs)


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


# --- List, export, bulk actions ----------------------------------------------------------------


@require("view_members")
def member_list(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    base = member_directory_queryset(association)
    filterset = MemberFilter(request.GET or None, queryset=base, request=request)
    # An invalid filter (e.g. another association's collège) shows its error and no rows.
    rows = base.none() if filterset.is_bound and not filterset.is_valid() else filterset.qs
    can_manage = has_capability(request, "manage_members")
    table = MemberTable(rows, association_slug=association.slug, exclude=() if can_manage else ("select",))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    if response := export_response(request, table, filename=f"adherents-{association.slug}",
                                   exclude_columns=("select",), title="Adhérents"):
        return response
    return render(request, "members/member_list.html", {
        "filter": filterset, "table": table, "can_manage": can_manage,
        "bulk_form": BulkActionForm(association=association, auto_id="bulk_%s") if can_manage else None,
        "current_period": services.current_period(association),
    })


class _BulkFailed(Exception):
    def __init__(self, member: Member, error: Exception):
        super().__init__(f"{member.display_name} : {_error_text(error)}")


@require_POST
@require("manage_members")
def member_bulk(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    ids = {int(value) for value in request.POST.getlist("ids") if value.isdigit()}
    if not ids:
        messages.error(request, _("Sélectionnez au moins un adhérent dans la liste."))
        return _back(request, "member_list")
    form = BulkActionForm(request.POST, association=association)
    if not form.is_valid():
        errors = [f"{form.fields[name].label if name in form.fields else ''} : {' '.join(errs)}".lstrip(" :")
                  for name, errs in form.errors.items()]
        messages.error(request, _("Action non effectuée. %(errors)s") % {"errors": " ".join(errors)})
        return _back(request, "member_list")
    # Ids of another association (or unknown) are simply not found here.
    members = list(_members(request).filter(pk__in=ids).select_related("association"))
    if not members:  # none of ours: nothing to do, nothing to record
        messages.error(request, _("Aucun des adhérents sélectionnés n'a été trouvé : rien n'a été fait."))
        return _back(request, "member_list")
    missing = len(ids) - len(members)
    action = form.cleaned_data["action"]
    try:
        with transaction.atomic():
            if action == BULK_PAYMENT:
                summary = _bulk_payment(request, members, form.cleaned_data["method"])
            elif action == BULK_COLLEGE:
                summary = _bulk_college(request, members, form.cleaned_data["college"])
            else:
                assert action == BULK_RENEWAL
                queued, skipped = services.send_renewal_links(association, request.user, members, request=request)
                summary = f"{queued} e-mail(s) envoyé(s), {skipped} sans adresse valide."
    except _BulkFailed as error:
        messages.error(request, _("Aucune modification n'a été faite. %(error)s") % {"error": error})
    else:
        messages.success(request, summary)
    if missing:
        messages.warning(request, _("%(missing)s adhérent(s) sélectionné(s) introuvable(s) : ignoré(s).") % {
            "missing": missing})
    return _back(request, "member_list")


def _bulk_payment(request: HttpRequest, members: list[Member], method: str) -> str:
    """Open the current period's membership when needed and record the balance as received."""
    validate = has_capability(request, "validate_payments")
    period = services.current_period(request.association)
    recorded = settled = skipped = 0
    total = ZERO
    for member in members:
        if member.anonymized_at or member.status in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF):
            skipped += 1
            continue
        try:
            membership = services.open_membership(member, request.user, period, request=request)
            if membership.status == MembershipStatus.CANCELLED:
                skipped += 1
                continue
            # Payments recorded but not yet validated already cover part of the balance.
            waiting = membership.payments.filter(validated_at=None).aggregate(s=Sum("amount"))["s"] or ZERO
            amount = membership.amount_due - membership.amount_paid - waiting
            if membership.is_settled or amount <= ZERO:
                settled += 1
                continue
            services.record_payment(membership, request.user, amount=amount, method=method, validate=validate,
                                    reference=membership.payment_reference, request=request)
        except (ServiceError, ValidationError) as error:
            raise _BulkFailed(member, error) from error
        recorded += 1
        total += amount
    state = "validé(s)" if validate else "en attente de validation par la coordination"
    parts = [f"{recorded} paiement(s) enregistré(s) pour {period.label} ({format_euros(total)}, {state})"]
    if settled:
        parts.append(f"{settled} déjà réglé(s) ou en attente")
    if skipped:
        parts.append(f"{skipped} ignoré(s) (départ, anonymisation ou adhésion annulée)")
    return ", ".join(parts) + "."


def _bulk_college(request: HttpRequest, members: list[Member], college) -> str:
    changed = 0
    for member in members:
        if member.anonymized_at or member.college_id == college.pk:
            continue
        try:
            services.update_member(member, request.user, {"college": college}, request=request)
        except (ServiceError, ValidationError) as error:
            raise _BulkFailed(member, error) from error
        changed += 1
    return f"{changed} adhérent(s) passé(s) dans le collège « {college.name} »."


# --- Create and edit -----------------------------------------------------------------------------


def _save_member(form: MemberForm, save) -> Member | None:
    """Run the service; a validation error of the model (e.g. the RPPS taken meanwhile) goes to the form."""
    try:
        return save(form.service_data())
    except ValidationError as error:
        form.apply_service_error(error)
    except IntegrityError:
        form.add_error("rpps", RPPS_TAKEN)
    return None


@require("manage_members")
def member_create(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    initial = {"kind": MemberKind.STRUCTURE} if request.GET.get("kind") == MemberKind.STRUCTURE else {}
    form = MemberForm(request.POST or None, association=association, instance=Member(association=association),
                      initial=initial)
    if request.method == "POST" and form.is_valid():
        member = _save_member(form, lambda data: services.create_member(association, request.user, data, request))
        if member is not None:
            messages.success(request, _("%(display_name)s a été ajouté·e aux adhérents.") % {
                "display_name": member.display_name})
            return redirect("member_detail", association_slug=association.slug, pk=member.pk)
    return render(request, "members/member_form.html", {"form": form, "member": None},
                  status=400 if form.errors else 200)


@require("manage_members")
def member_edit(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    association = request.association
    member = _member_or_404(request, pk)
    if member.anonymized_at:
        messages.error(request, _("Les données de cet adhérent ont été anonymisées : la fiche ne peut plus être "
                                "modifiée."))
        return redirect("member_detail", association_slug=association.slug, pk=pk)
    form = MemberForm(request.POST or None, association=association, instance=member)
    if request.method == "POST" and form.is_valid():
        # The form has changed ``member`` in memory: the service diffs against the stored row.
        stored = _member_or_404(request, pk)
        saved = _save_member(form, lambda data: services.update_member(stored, request.user, data, request))
        if saved is not None:
            messages.success(request, _("La fiche de %(display_name)s a été enregistrée.") % {
                "display_name": saved.display_name})
            return redirect("member_detail", association_slug=association.slug, pk=pk)
    return render(request, "members/member_form.html", {"form": form, "member": member},
                  status=400 if form.errors else 200)


# --- Member page ---------------------------------------------------------------------------------


@require("view_members")
def member_detail(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    return _render_detail(request, _member_or_404(request, pk))


def _render_detail(request: HttpRequest, member: Member, payment_form: PaymentForm | None = None,
                   status: int = 200) -> HttpResponse:
    """Member page in a fixed number of queries: member, memberships, payments, history, duplicates,
    last e-mails (+ practitioners of a structure, + the payment form's choices for editors)."""
    association = request.association
    payments = Payment.objects.filter(association=association).select_related("validated_by")
    memberships = list(
        Membership.objects.filter(association=association, member=member)
        .prefetch_related(Prefetch("payments", queryset=payments)).order_by("-start_date")
    )
    membership_ids = [str(m.pk) for m in memberships]
    payment_ids = [str(p.pk) for m in memberships for p in m.payments.all()]
    history = list(
        AuditLog.objects.filter(association=association)
        .filter(Q(target_type="member", target_id=str(member.pk))
                | Q(target_type="membership", target_id__in=membership_ids)
                | Q(target_type="payment", target_id__in=payment_ids))
        .order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )
    period = services.current_period(association)
    can_manage = has_capability(request, "manage_members")
    open_memberships = [m for m in memberships if m.status != MembershipStatus.CANCELLED]
    if payment_form is None and can_manage and open_memberships and not member.anonymized_at:
        latest = open_memberships[0]
        waiting = sum((p.amount for p in latest.payments.all() if not p.validated_at), ZERO)
        payment_form = PaymentForm(association=association, member=member, initial={
            "membership": latest.pk, "amount": max(latest.balance - waiting, ZERO) or None})
    practitioners = []
    if member.kind == MemberKind.STRUCTURE:
        practitioners = list(member.practitioners.filter(association=association, anonymized_at=None)
                             .select_related("profession")[:100])
    return render(request, "members/member_detail.html", {
        "member": member,
        "activity": member_activity(member),
        "memberships": memberships,
        "payment_rows": [(m, p) for m in memberships for p in m.payments.all()],
        "history": history,
        "duplicates": [] if member.anonymized_at else services.probable_duplicates(member),
        "rpps_warning": member.rpps_warning,
        "current_period": period,
        "has_current": any(m.start_date == period.start for m in memberships),
        "payment_form": payment_form,
        "practitioners": practitioners,
        "mails": list(OutgoingMail.objects.filter(association=association, member=member).select_related("campaign")
                      .defer("body_text", "body_html", "headers", "campaign__body", "campaign__audience")
                      .order_by("-created_at", "-id")[:MAILS_LIMIT]),
        "can_manage": can_manage,
        "can_validate": has_capability(request, "validate_payments"),
        "departed": member.status in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF),
        "status_badge": MEMBER_STATUS_BADGES.get(member.status, ""),
        "membership_badges": MEMBERSHIP_STATUS_BADGES,
    }, status=status)


@require("view_members")
def membership_attestation(request: HttpRequest, association_slug: str, pk: int) -> FileResponse:
    """The attestation PDF, stored under the association's id, served only through this scoped view."""
    membership = get_object_or_404(Membership.objects.filter(association=request.association), pk=pk)
    return files.serve(membership.attestation, attachment=True, content_type="application/pdf",
                       filename=f"attestation-adhesion-{membership.number or membership.pk}.pdf")


# --- Actions on the member page (POST only) ------------------------------------------------------


@require_POST
@require("manage_members")
def member_open_membership(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    period = services.current_period(request.association)
    if member.anonymized_at:
        messages.error(request, _("Cet adhérent est anonymisé : aucune adhésion ne peut être ouverte."))
    elif Membership.objects.filter(association=request.association, member=member,
                                   start_date=period.start).exists():
        messages.info(request, _("L'adhésion %(label)s existe déjà.") % {"label": period.label})
    else:
        try:
            membership = services.open_membership(member, request.user, period, request=request)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            if membership.status == MembershipStatus.EXEMPT:
                messages.success(request, _("Adhésion %(label)s ouverte (exonérée : tarif à 0 €).") % {
                    "label": period.label})
            else:
                messages.success(request, _("Adhésion %(label)s ouverte : %(amount)s à régler.") % {
                    "label": period.label, "amount": format_euros(membership.amount_due)})
    return redirect("member_detail", association_slug=association_slug, pk=pk)


@require_POST
@require("manage_members")
def member_record_payment(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    if member.anonymized_at:
        messages.error(request, _("Cet adhérent est anonymisé : aucun paiement ne peut être enregistré."))
        return redirect("member_detail", association_slug=association_slug, pk=pk)
    form = PaymentForm(request.POST, association=request.association, member=member)
    if form.is_valid():
        data = form.cleaned_data
        validate = has_capability(request, "validate_payments")
        try:
            services.record_payment(data["membership"], request.user, amount=data["amount"], method=data["method"],
                                    paid_on=data["paid_on"], reference=data["reference"], validate=validate,
                                    request=request)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            state = _("validé") if validate else _("en attente de validation par la coordination")
            messages.success(request, _("Paiement de %(amount)s enregistré pour %(period_label)s (%(state)s).") % {
                "amount": format_euros(data["amount"]), "period_label": data["membership"].period_label,
                "state": state})
            return redirect("member_detail", association_slug=association_slug, pk=pk)
    messages.error(request, _("Le paiement n'a pas été enregistré : corrigez le formulaire."))
    return _render_detail(request, member, payment_form=form, status=400)


@require_POST
@require("validate_payments")
def payment_validate(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.filter(association=request.association)
                                .select_related("membership"), pk=pk)
    if payment.validated_at:
        messages.info(request, _("Ce paiement était déjà validé."))
    else:
        try:
            services.validate_payment(payment, request.user, request=request)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Paiement de %(amount)s validé (%(period_label)s).") % {
                "amount": format_euros(payment.amount), "period_label": payment.membership.period_label})
    return _back(request, "member_detail", pk=payment.membership.member_id)


@require_POST
@require("manage_members")
def membership_set_status(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.filter(association=request.association), pk=pk)
    status = request.POST.get("status", "")
    labels = {MembershipStatus.EXEMPT: _("exonérée"), MembershipStatus.CANCELLED: _("annulée")}
    if status not in labels:
        messages.error(request, _("Choisissez « exonérer » ou « annuler »."))
    elif membership.status == status:
        messages.info(request, _("L'adhésion %(period_label)s est déjà %(value)s.") % {
            "period_label": membership.period_label, "value": labels[status]})
    else:
        try:
            services.set_membership_status(membership, request.user, status, request=request)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Adhésion %(period_label)s %(value)s.") % {
                "period_label": membership.period_label, "value": labels[status]})
    return _back(request, "member_detail", pk=membership.member_id)


DEPARTURES = {
    MemberStatus.RESIGNED: "Démission enregistrée.",
    MemberStatus.STRUCK_OFF: "Radiation enregistrée.",
}


@require_POST
@require("manage_members")
def member_departure(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    action = request.POST.get("action", "")
    departed = member.status in DEPARTURES
    try:
        if member.anonymized_at:
            messages.error(request, _("Cet adhérent est anonymisé."))
        elif action == "reinstate":
            if not departed:
                messages.info(request, _("%(display_name)s n'est ni démissionnaire ni radié·e.") % {
                    "display_name": member.display_name})
            else:
                services.reinstate(member, request.user, request=request)
                messages.success(request, _("%(display_name)s est réintégré·e (statut : %(status)s).") % {
                    "display_name": member.display_name, "status": member.get_status_display()})
        elif action in DEPARTURES:
            services.set_departure(member, request.user, action, request=request)
            messages.success(request, DEPARTURES[action])
        else:
            messages.error(request, _("Action inconnue."))
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect("member_detail", association_slug=association_slug, pk=pk)
