"""Public pages of an association (``/p/<slug>/``, no login): renewal by personal link and join page.

The tenant middleware has resolved ``request.association`` from the slug and activated its scope.
The renewal pages are reached with a signed token naming one member of this association; a token of
another association, a tampered or an expired one gets a clear page and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from associations import files
from associations.membership import services, space_services
from associations.membership.forms_public import JoinForm, RenewalForm
from associations.membership.payment_methods import available_methods, details_missing, instructions_for
from associations.models import (
    Association,
    AssociationDocument,
    DocumentKind,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    Tariff,
    TariffCategory,
)
from associations.services import ServiceError

SETTLED = (MembershipStatus.PAID, MembershipStatus.EXEMPT)
JOIN_SESSION_KEY = "membership.join.{}"


# --- Shared by the public link and the member space ----------------------------------------------


def latest_documents(association: Association) -> list[AssociationDocument]:
    """The latest document of each kind (statutes, règlement intérieur, privacy notice). One query."""
    latest: dict[str, AssociationDocument] = {}
    for document in AssociationDocument.objects.filter(association=association).order_by("kind", "-uploaded_at",
                                                                                           "-id"):
        latest.setdefault(document.kind, document)
    return [latest[kind] for kind in DocumentKind.values if kind in latest]


def serve_document(document: AssociationDocument) -> FileResponse:
    return files.serve(document.file)


def apply_validation_error(form, error: ValidationError) -> None:
    """Show a model ValidationError raised by a service next to the form's fields (else on top)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields and name != NON_FIELD_ERRORS else None, errors)


@dataclass
class RenewalState:
    period: services.Period
    amount: Decimal | None          # what the member will pay for ``period`` (None: no tariff yet)
    current_settled: Membership | None   # a settled membership covering today (renewal is for the next period)
    blocked: str = ""               # French reason why the member cannot renew online


def pending_membership(member: Member) -> Membership | None:
    return member.memberships.filter(status=MembershipStatus.PENDING).order_by("-start_date").first()


def renewal_state(member: Member) -> RenewalState:
    today = timezone.localdate()
    period = services.renewal_period(member)
    current_settled = member.memberships.filter(status__in=SETTLED, start_date__lte=today,
                                                end_date__gte=today).first()
    if current_settled is not None and current_settled.start_date == period.start:
        current_settled = None
    existing = member.memberships.filter(start_date=period.start).first()
    blocked = ""
    amount: Decimal | None = None
    if existing is not None and existing.status != MembershipStatus.CANCELLED:
        amount = existing.balance
    else:
        try:
            amount = services.tariff_for(member)
        except ServiceError:
            blocked = ("Le renouvellement en ligne n'est pas encore ouvert (cotisation non définie) : "
                       "contactez la coordination de l'association.")
    if member.status in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF):
        blocked = "Votre adhésion ne peut pas être renouvelée en ligne : contactez la coordination."
    return RenewalState(period=period, amount=amount, current_settled=current_settled, blocked=blocked)


def renewal_page(request: HttpRequest, member: Member, *, actor, self_url: str, space: bool,
                 extra: dict | None = None) -> HttpResponse:
    """The one-page renewal form (GET/POST) or, when a renewal is already pending, its instructions.

    Documents link to ``association_document`` in the member space, to ``renewal_document`` (token)
    on the public page.
    """
    association = request.association
    context = {"member": member, "space": space, "self_url": self_url, **(extra or {})}
    pending = pending_membership(member)
    if pending is not None:
        return membership_status_page(request, member, pending, context)
    state = renewal_state(member)
    documents = latest_documents(association)
    form = RenewalForm(request.POST or None, member=member, association=association)
    if request.method == "POST" and not state.blocked and form.is_valid():
        try:
            membership = services.declare_renewal(
                member, method=form.cleaned_data["method"], data=form.changed_data_for_member(),
                documents_accepted=form.documents_accepted, actor=actor, request=request,
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if membership.status == MembershipStatus.PENDING:
                messages.success(request, _("Votre demande de renouvellement est enregistrée. Merci !"))
                return redirect(self_url)
            # Free cotisation (exonérée): nothing to pay, the attestation is on its way.
            return membership_status_page(request, member, membership, context)
        member.refresh_from_db()
    context.update({
        "form": form, "state": state, "documents": documents,
        "methods": form.methods, "details_missing": details_missing(association),
    })
    return render(request, "renewal/form.html", context, status=400 if form.errors else 200)


def membership_status_page(request: HttpRequest, member: Member, membership: Membership,
                           context: dict) -> HttpResponse:
    """Confirmation: period, amount, payment instructions, waiting for the coordination."""
    association = request.association
    instructions = instructions_for(association, membership)
    alternatives = [] if instructions else [h.instructions(association, membership)
                                            for h in available_methods(association)]
    return render(request, "renewal/status.html", {
        **context, "membership": membership, "instructions": instructions, "alternatives": alternatives,
    })


# --- Renewal by personal link --------------------------------------------------------------------


def _member_or_problem(request: HttpRequest, token: str) -> tuple[Member | None, HttpResponse | None]:
    member, problem = services.member_from_renewal_token(request.association, token)
    if member is None:
        return None, render(request, "renewal/link_problem.html", {"problem": problem},
                            status=410 if problem == "expired" else 404)
    return member, None


@never_cache
@require_http_methods(["GET", "POST"])
def renewal(request: HttpRequest, association_slug: str, token: str) -> HttpResponse:
    member, problem = _member_or_problem(request, token)
    if problem is not None:
        return problem
    assert member is not None
    linked_now = False
    if request.user.is_authenticated:
        linked_now = space_services.link_member_account(member, request.user, request)
    slug = request.association.slug
    return renewal_page(
        request, member, actor=request.user if request.user.is_authenticated else None,
        self_url=reverse("renewal", kwargs={"association_slug": slug, "token": token}),
        space=False,
        extra={
            "token": token, "linked_now": linked_now,
            "account_url": reverse("renewal_account", kwargs={"association_slug": slug, "token": token}),
            "is_linked_user": request.user.is_authenticated and member.user_id == request.user.pk,
        },
    )


@never_cache
def renewal_document(request: HttpRequest, association_slug: str, token: str, pk: int) -> HttpResponse:
    """A document to accept (statutes...), served to the holder of a valid renewal link only."""
    member, problem = _member_or_problem(request, token)
    if problem is not None:
        return problem
    document = get_object_or_404(AssociationDocument.objects.filter(association=request.association), pk=pk)
    return serve_document(document)


@never_cache
@require_POST
def renewal_account(request: HttpRequest, association_slug: str, token: str) -> HttpResponse:
    """« Accéder à mon espace adhérent »: link (or create) the login account, then ask for a code."""
    member, problem = _member_or_problem(request, token)
    if problem is not None:
        return problem
    assert member is not None
    try:
        space_services.open_member_account(member, request)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("renewal", association_slug=association_slug, token=token)
    messages.info(request, _("Saisissez votre adresse e-mail (%(email)s) : vous recevrez un code de connexion.") % {
        "email": member.email})
    space = reverse("member_space", kwargs={"association_slug": association_slug})
    return redirect(f"{reverse('account_request_login_code')}?next={space}")


@never_cache
def public_document(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """The latest statutes, règlement intérieur or privacy notice, for people applying on the join page
    (older versions are not public)."""
    latest = {document.pk: document for document in latest_documents(request.association)}
    if pk not in latest:
        raise Http404
    return serve_document(latest[pk])


# --- Join page -----------------------------------------------------------------------------------


def _tariff_missing(association: Association, kind: str) -> bool:
    category = TariffCategory.STRUCTURE if kind == MemberKind.STRUCTURE else TariffCategory.PERSON
    return not Tariff.objects.filter(association=association, category=category).exists()


@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    form = JoinForm(request.POST or None, association=association)
    if request.method == "POST":
        if form.is_robot:
            # Looks like a success to a robot; nothing is written.
            return render(request, "renewal/join_done.html", {"member": None})
        if form.is_valid():
            if _tariff_missing(association, form.cleaned_data["kind"]):
                form.add_error(None, _("L'adhésion en ligne n'est pas encore ouverte : contactez la coordination "
                                     "de l'association."))
            else:
                try:
                    member = services.apply_for_membership(
                        association, form.member_data(), method=form.cleaned_data["method"],
                        documents_accepted=form.documents_accepted, request=request,
                    )
                except ServiceError as error:
                    form.add_error(None, str(error))
                except ValidationError as error:
                    apply_validation_error(form, error)
                else:
                    request.session[JOIN_SESSION_KEY.format(association.pk)] = member.pk
                    return redirect("join_done", association_slug=association.slug)
    return render(request, "renewal/join.html", {
        "form": form, "methods": form.methods, "details_missing": details_missing(association),
        "documents": latest_documents(association),
        "period": services.current_period(association),
    }, status=400 if form.errors else 200)


@never_cache
def join_done(request: HttpRequest, association_slug: str) -> HttpResponse:
    """After applying: « demande envoyée » and how to pay (the applicant is remembered by the session)."""
    association = request.association
    pk = request.session.get(JOIN_SESSION_KEY.format(association.pk))
    member = Member.objects.filter(association=association, pk=pk, anonymized_at=None).first() if pk else None
    if member is None:
        return redirect("join", association_slug=association.slug)
    membership = member.memberships.order_by("-start_date").first()
    instructions = instructions_for(association, membership) if membership else None
    return render(request, "renewal/join_done.html", {
        "member": member, "membership": membership, "instructions": instructions,
    })
