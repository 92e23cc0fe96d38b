"""The member space (« Mon adhésion », ``/a/<slug>/mon-adhesion/``): a professional with a login sees and
manages only their own member record. Every view needs the ``member_space`` capability (the middleware
gives the ``member`` role to a user whose account is linked to a member record of the association)."""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from associations import files
from associations.membership import services
from associations.membership.attestations import attestation_pdf
from associations.membership.forms_public import ProfileForm
from associations.membership.payment_methods import instructions_for
from associations.membership.views_public import (
    apply_validation_error,
    latest_documents,
    renewal_page,
)
from associations.models import Member, Membership, MembershipStatus
from associations.permissions import require
from associations.services import ServiceError


def own_member(request: HttpRequest) -> Member:
    """The caller's member record in this association (404 when the account is linked to none)."""
    member = (Member.objects.filter(association=request.association, user=request.user, anonymized_at=None)
              .select_related("profession").order_by("pk").first())
    if member is None:
        raise Http404
    return member


@require("member_space")
def member_space(request: HttpRequest, association_slug: str) -> HttpResponse:
    # Queries, whatever the number of memberships: the member (1), their memberships (2), the
    # association's documents (3) — besides the session, the user and the middleware's role lookup.
    member = own_member(request)
    memberships = list(Membership.objects.filter(association=request.association, member=member)
                       .order_by("-start_date"))
    pending = next((m for m in memberships if m.status == MembershipStatus.PENDING), None)
    return render(request, "renewal/space.html", {
        "member": member, "memberships": memberships, "pending": pending,
        "instructions": instructions_for(request.association, pending) if pending else None,
        "documents": latest_documents(request.association),
    })


@never_cache
@require("member_space")
def member_attestation(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """The attestation of one of the caller's own settled memberships (another member's id → 404)."""
    member = own_member(request)
    membership = get_object_or_404(
        Membership.objects.filter(association=request.association, member=member,
                                  status__in=[MembershipStatus.PAID, MembershipStatus.EXEMPT]),
        pk=pk,
    )
    filename = f"attestation-adhesion-{membership.number or membership.pk}.pdf"
    if membership.attestation and membership.attestation.storage.exists(membership.attestation.name):
        return files.serve(membership.attestation, attachment=True, filename=filename, content_type="application/pdf")
    # The background job has not stored it yet: build the same PDF now (nothing is written).
    membership.member = member
    response = HttpResponse(attestation_pdf(request.association, membership), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require("member_space")
@require_http_methods(["GET", "POST"])
def space_renew(request: HttpRequest, association_slug: str) -> HttpResponse:
    member = own_member(request)
    return renewal_page(
        request, member, actor=request.user, self_url=reverse("space_renew", args=[association_slug]),
        space=True,
    )


@require("member_space")
@require_http_methods(["GET", "POST"])
def space_profile(request: HttpRequest, association_slug: str) -> HttpResponse:
    member = own_member(request)
    form = ProfileForm(request.POST or None, member=member, association=request.association)
    if request.method == "POST" and form.is_valid():
        changes = form.changed_data_for_member()
        try:
            if changes:
                services.update_member(member, request.user, changes, request, action="member.self_update")
        except ValidationError as error:
            apply_validation_error(form, error)
            member.refresh_from_db()
        else:
            messages.success(request, "Vos informations ont été enregistrées." if changes
                             else "Aucune modification à enregistrer.")
            return redirect("member_space", association_slug=association_slug)
    return render(request, "renewal/space_profile.html", {"form": form, "member": member},
                  status=400 if form.errors else 200)


@never_cache
@require("member_space")
def space_export(request: HttpRequest, association_slug: str) -> HttpResponse:
    """Everything the association holds about the caller (RGPD access and portability)."""
    export_format = request.GET.get("format", "json")
    if export_format not in ("json", "csv"):
        return HttpResponseBadRequest("Format inconnu : choisissez json ou csv.", content_type="text/plain")
    member = own_member(request)
    data = services.export_member_data(member)
    filename = f"mes-donnees-{request.association.slug}.{export_format}"
    if export_format == "json":
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2),
                                content_type="application/json; charset=utf-8")
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write("\ufeff")  # Excel opens UTF-8 correctly with a BOM
        writer = csv.writer(response, delimiter=";")
        writer.writerow(["rubrique", "champ", "valeur"])
        memberships = data.pop("memberships", [])
        for name, value in data.items():
            writer.writerow(["adhérent", name, "" if value is None else value])
        for membership in memberships:
            payments = membership.pop("payments", [])
            section = f"adhésion {membership['period']}"
            for name, value in membership.items():
                writer.writerow([section, name, "" if value is None else value])
            for index, payment in enumerate(payments, start=1):
                for name, value in payment.items():
                    writer.writerow([section, f"paiement {index} {name}", value])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@require("member_space")
def space_newsletter(request: HttpRequest, association_slug: str) -> HttpResponse:
    """Subscribe or unsubscribe from the association's newsletters (``consent`` = 1 or 0)."""
    member = own_member(request)
    value = request.POST.get("consent")
    consent = (value == "1") if value in ("0", "1") else not member.newsletter_consent
    try:
        services.update_member(member, request.user, {"newsletter_consent": consent}, request,
                               action="member.newsletter")
    except (ValidationError, ServiceError):
        messages.error(request, _("Votre choix n'a pas pu être enregistré : contactez la coordination."))
    else:
        messages.success(request, "Vous recevrez les lettres d'information de l'association." if consent
                         else "Vous ne recevrez plus les lettres d'information de l'association.")
    return redirect("member_space", association_slug=association_slug)
