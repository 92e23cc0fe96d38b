"""Writes about members, memberships and payments: one transactional function per write, explicit
actor, an audit row, side effects (attestation job, e-mails) after commit."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from associations import audit
from associations.mail import build_message
from associations.models import (
    ApplicationStatus,
    Association,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    Payment,
    PaymentMethod,
    Tariff,
    User,
)
from associations.models.membership import ZERO
from associations.services import ServiceError
from associations.tokens import TokenKind

MEMBER_FIELDS = [
    "kind", "civility", "first_name", "last_name", "profession", "specialty", "practice_mode", "rpps", "adeli",
    "practice_structure", "is_student", "structure_name", "structure_type", "finess", "siret", "contact_person",
    "email", "phone", "address", "postal_code", "city", "insee_code", "college", "joined_on", "notes",
    "newsletter_consent",
]


# --- Periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_starting(association: Association, day: date) -> Period:
    """The period a membership starting on ``day`` covers (civil year, or 12 rolling months)."""
    if association.membership_period == "rolling":
        end = _add_months(day, 12) - timedelta(days=1)
        return Period(f"{day:%d/%m/%Y} – {end:%d/%m/%Y}", day, end)
    return Period(str(day.year), date(day.year, 1, 1), date(day.year, 12, 31))


def current_period(association: Association, today: date | None = None) -> Period:
    return period_starting(association, today or timezone.localdate())


def previous_period(association: Association, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    if association.membership_period == "rolling":
        return period_starting(association, _add_months(today, -12))
    return period_starting(association, date(today.year - 1, 1, 1))


def renewal_period(member: Member, today: date | None = None) -> Period:
    """The period an online renewal pays for: the current one, or the next when it is already settled."""
    association = member.association
    today = today or timezone.localdate()
    latest = member.memberships.exclude(status=MembershipStatus.CANCELLED).order_by("-end_date").first()
    if latest is not None and latest.is_settled and latest.end_date >= today:
        return period_starting(association, latest.end_date + timedelta(days=1))
    if association.membership_period == "rolling" or latest is None or latest.end_date < today:
        return period_starting(association, today)
    return Period(latest.period_label, latest.start_date, latest.end_date)


# --- Members -----------------------------------------------------------------------------------


def probable_duplicates(member: Member) -> list[Member]:
    """Other members of the association with the same e-mail (flagged, not refused)."""
    if not member.email:
        return []
    return list(
        Member.objects.filter(association=member.association, email__iexact=member.email, anonymized_at=None)
        .exclude(pk=member.pk)[:5]
    )


def _snapshot(member: Member) -> dict[str, Any]:
    return {name: getattr(member, name) for name in MEMBER_FIELDS}


def create_member(association: Association, actor: User | None, data: dict[str, Any],
                  request: HttpRequest | None = None, *, action: str = "member.create") -> Member:
    member = Member(association=association, **data)
    member.full_clean()
    with transaction.atomic():
        member.save()
        refresh_status(member)
        audit.record(association, actor, action, member,
                     changes={k: str(v) for k, v in data.items() if v not in ("", None, False)}, request=request)
    return member


def update_member(member: Member, actor: User | None, data: dict[str, Any],
                  request: HttpRequest | None = None, *, action: str = "member.update") -> Member:
    before = _snapshot(member)
    for name, value in data.items():
        setattr(member, name, value)
    # A corrected address is a new chance: forget the bounce of the old one.
    new_address = (member.email or "").strip().lower() != (before["email"] or "").strip().lower()
    cleared_bounce = new_address and (member.email_invalid or member.email_bounced_at is not None)
    if cleared_bounce:
        bounce_before = {"email_invalid": member.email_invalid, "email_bounced_at": member.email_bounced_at,
                         "email_bounce_reason": member.email_bounce_reason}
        member.email_invalid, member.email_bounced_at, member.email_bounce_reason = False, None, ""
    member.full_clean()
    with transaction.atomic():
        member.save()
        changes = audit.diff(member, before, list(data))
        if cleared_bounce:
            changes.update(audit.diff(member, bounce_before, list(bounce_before)))
        if changes:
            audit.record(member.association, actor, action, member, changes=changes, request=request)
    return member


def refresh_status(member: Member, today: date | None = None) -> str:
    """Derive the member's status from their memberships (resigned/struck off are decided by people):
    up to date when a settled membership covers today, to renew when one was settled before,
    prospect when none ever was."""
    if member.status in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF):
        return member.status
    today = today or timezone.localdate()
    memberships = list(member.memberships.exclude(status=MembershipStatus.CANCELLED).only(
        "status", "start_date", "end_date"))
    if any(m.is_settled and m.start_date <= today <= m.end_date for m in memberships):
        status = MemberStatus.UP_TO_DATE
    elif any(m.is_settled for m in memberships):
        status = MemberStatus.TO_RENEW  # was a member before: their cotisation is to renew
    else:
        status = MemberStatus.PROSPECT  # never paid yet (new member or applicant waiting for payment)
    if status != member.status:
        member.status = status
        member.save(update_fields=["status", "updated_at"])
    return status


def set_departure(member: Member, actor: User, status: str, request: HttpRequest | None = None) -> Member:
    if status not in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF):
        raise ServiceError(_("Statut de départ inconnu."))
    with transaction.atomic():
        old = member.status
        member.status = status
        member.left_on = timezone.localdate()
        member.save(update_fields=["status", "left_on", "updated_at"])
        audit.record(member.association, actor, "member.departure", member, changes={"status": [old, status]},
                     request=request)
    return member


def reinstate(member: Member, actor: User, request: HttpRequest | None = None) -> Member:
    with transaction.atomic():
        old = member.status
        member.status = MemberStatus.PROSPECT
        member.left_on = None
        member.save(update_fields=["status", "left_on", "updated_at"])
        refresh_status(member)
        audit.record(member.association, actor, "member.reinstate", member, changes={"status": [old, member.status]},
                     request=request)
    return member


# --- Memberships and payments -----------------------------------------------------------------


def tariff_for(member: Member) -> Decimal:
    tariff = Tariff.objects.filter(association=member.association, category=member.tariff_category).first()
    if tariff is None:
        raise ServiceError(
            _("Aucun tarif n'est défini pour la catégorie « %(category)s » : renseignez les tarifs dans les "
              "paramètres des adhésions.") % {"category": member.tariff_category}
        )
    return tariff.amount


def open_membership(member: Member, actor: User | None, period: Period | None = None, *,
                    amount: Decimal | None = None, request: HttpRequest | None = None) -> Membership:
    """The member's membership for ``period`` (created with the tariff amount if it does not exist)."""
    period = period or current_period(member.association)
    existing = member.memberships.filter(start_date=period.start).first()
    if existing is not None:
        return existing
    due = tariff_for(member) if amount is None else amount
    with transaction.atomic():
        membership = Membership.objects.create(
            association=member.association, member=member, period_label=period.label, start_date=period.start,
            end_date=period.end, amount_due=due,
            status=MembershipStatus.EXEMPT if due == ZERO else MembershipStatus.DUE,
        )
        if due == ZERO:
            _assign_number(membership)
        refresh_status(member)
        audit.record(member.association, actor, "membership.create", membership,
                     changes={"period": period.label, "amount_due": str(due)}, request=request)
        if due == ZERO:
            _queue_attestation(membership)
    return membership


def record_payment(membership: Membership, actor: User | None, *, amount: Decimal, method: str,
                   paid_on: date | None = None, reference: str = "", validate: bool = True,
                   request: HttpRequest | None = None) -> Payment:
    """Record money received. ``validate`` (coordinator/treasurer) makes it count in the balance now."""
    if method not in PaymentMethod.values:
        raise ServiceError(_("Mode de paiement inconnu."))
    if amount is None or amount <= ZERO:
        raise ServiceError(_("Le montant doit être positif."))
    if membership.status == MembershipStatus.CANCELLED:
        raise ServiceError(_("Cette adhésion est annulée : aucun paiement ne peut y être enregistré."))
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        payment = Payment.objects.create(
            association=locked.association, membership=locked, amount=amount, method=method,
            paid_on=paid_on or timezone.localdate(), reference=reference,
            validated_by=actor if validate else None, validated_at=timezone.now() if validate else None,
        )
        audit.record(locked.association, actor, "payment.record", payment,
                     changes={"membership": locked.period_label, "amount": str(amount), "method": method,
                              "validated": validate}, request=request)
        _recompute(locked)
    membership.refresh_from_db()
    return payment


def validate_payment(payment: Payment, actor: User, request: HttpRequest | None = None) -> Payment:
    if payment.validated_at:
        return payment
    with transaction.atomic():
        payment.validated_by = actor
        payment.validated_at = timezone.now()
        payment.save(update_fields=["validated_by", "validated_at"])
        audit.record(payment.association, actor, "payment.validate", payment, request=request)
        _recompute(Membership.objects.select_for_update().get(pk=payment.membership_id))
    return payment


def validate_pending_membership(membership: Membership, actor: User, *, paid_on: date | None = None,
                                request: HttpRequest | None = None) -> Membership:
    """From the "à valider" queue: the declared transfer/cheque arrived; record the balance as paid."""
    if membership.status != MembershipStatus.PENDING:
        raise ServiceError(_("Cette adhésion n'est pas en attente de validation."))
    if membership.balance > ZERO:
        record_payment(membership, actor, amount=membership.balance,
                       method=membership.chosen_method or PaymentMethod.TRANSFER, paid_on=paid_on,
                       reference=membership.payment_reference, request=request)
    membership.refresh_from_db()
    return membership


def set_membership_status(membership: Membership, actor: User, status: str,
                          request: HttpRequest | None = None) -> Membership:
    """Exempt (exonérée) or cancel (annulée) a membership."""
    if status not in (MembershipStatus.EXEMPT, MembershipStatus.CANCELLED):
        raise ServiceError(_("Statut inconnu."))
    with transaction.atomic():
        old = membership.status
        membership.status = status
        membership.save(update_fields=["status"])
        if status == MembershipStatus.EXEMPT and not membership.number:
            _assign_number(membership)
        refresh_status(membership.member)
        audit.record(membership.association, actor, "membership.status", membership,
                     changes={"status": [old, status]}, request=request)
        if status == MembershipStatus.EXEMPT:
            _queue_attestation(membership)
    return membership


def _recompute(membership: Membership) -> None:
    """Balance and status from validated payments (the row is locked by the caller)."""
    validated = membership.payments.filter(validated_at__isnull=False)
    total = validated.aggregate(total=Sum("amount"))["total"] or ZERO
    membership.amount_paid = total
    fields = ["amount_paid"]
    if membership.status not in (MembershipStatus.CANCELLED, MembershipStatus.EXEMPT):
        if total >= membership.amount_due:
            became_paid = membership.status != MembershipStatus.PAID
            membership.status = MembershipStatus.PAID
            membership.paid_on = validated.order_by("-paid_on").values_list("paid_on", flat=True).first()
            fields += ["status", "paid_on"]
            if became_paid:
                membership.save(update_fields=fields)
                _assign_number(membership)
                refresh_status(membership.member)
                _queue_attestation(membership)
                return
        elif membership.status == MembershipStatus.PAID:
            membership.status = MembershipStatus.DUE
            fields.append("status")
    membership.save(update_fields=fields)
    refresh_status(membership.member)


def _assign_number(membership: Membership) -> None:
    """Unique attestation number per association: <association id>-<year>-<sequence>."""
    if membership.number:
        return
    Association.objects.select_for_update().filter(pk=membership.association_id).first()
    prefix = f"{membership.association_id}-{membership.start_date.year}-"
    count = Membership.objects.filter(association_id=membership.association_id, number__startswith=prefix).count()
    membership.number = f"{prefix}{count + 1:05d}"
    membership.save(update_fields=["number"])


def _queue_attestation(membership: Membership) -> None:
    # Imported here (as in send_renewal_links): the tasks module imports this one, its tasks call these services.
    from associations.membership.tasks import send_attestation

    send_attestation.delay_on_commit(membership.association_id, membership.pk)


# --- Online renewal and applications ----------------------------------------------------------


def declare_renewal(member: Member, *, method: str, data: dict[str, Any], documents_accepted: bool,
                    actor: User | None = None, request: HttpRequest | None = None) -> Membership:
    """The professional renews online: data corrected, documents accepted, payment method chosen.

    The membership becomes "en attente de paiement" until the coordinator validates it.
    """
    if not documents_accepted:
        raise ServiceError(_("Vous devez accepter les statuts, le règlement intérieur et la notice RGPD."))
    if method not in (PaymentMethod.TRANSFER, PaymentMethod.CHEQUE):
        raise ServiceError(_("Choisissez le virement ou le chèque."))
    if member.status in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF):
        raise ServiceError(_("Votre adhésion ne peut pas être renouvelée en ligne : contactez la coordination."))
    with transaction.atomic():
        if data:
            update_member(member, actor, data, request, action="member.self_update")
        period = renewal_period(member)
        membership = open_membership(member, actor, period, request=request)
        if membership.is_settled:
            return membership
        membership.status = MembershipStatus.PENDING
        membership.chosen_method = method
        membership.documents_accepted_at = timezone.now()
        membership.save(update_fields=["status", "chosen_method", "documents_accepted_at"])
        audit.record(member.association, actor, "membership.renew_online", membership,
                     changes={"method": method, "period": membership.period_label}, request=request,
                     target_label=f"{member} — {membership.period_label}")
    return membership


def apply_for_membership(association: Association, data: dict[str, Any], *, method: str,
                         documents_accepted: bool, request: HttpRequest | None = None) -> Member:
    """Public join page: a new professional applies; the coordinator accepts or refuses."""
    if not documents_accepted:
        raise ServiceError(_("Vous devez accepter les statuts, le règlement intérieur et la notice RGPD."))
    with transaction.atomic():
        member = create_member(association, None, {**data, "application_status": ApplicationStatus.PENDING},
                               request, action="member.apply")
        membership = open_membership(member, None, request=request)
        if not membership.is_settled:
            membership.status = MembershipStatus.PENDING
            membership.chosen_method = method
            membership.documents_accepted_at = timezone.now()
            membership.save(update_fields=["status", "chosen_method", "documents_accepted_at"])
    return member


def decide_application(member: Member, actor: User, accept: bool, request: HttpRequest | None = None) -> Member:
    if member.application_status != ApplicationStatus.PENDING:
        raise ServiceError(_("Cette demande d'adhésion a déjà été traitée."))
    with transaction.atomic():
        member.application_status = ApplicationStatus.ACCEPTED if accept else ApplicationStatus.REFUSED
        if accept and not member.joined_on:
            member.joined_on = timezone.localdate()
        member.save(update_fields=["application_status", "joined_on", "updated_at"])
        if not accept:
            for membership in member.memberships.filter(status__in=[MembershipStatus.PENDING, MembershipStatus.DUE]):
                membership.status = MembershipStatus.CANCELLED
                membership.save(update_fields=["status"])
            refresh_status(member)
        audit.record(member.association, actor, "member.application_accept" if accept else
                     "member.application_refuse", member, request=request)
    return member


# --- RGPD ---------------------------------------------------------------------------------------

ERASED_FIELDS = {
    "civility": "", "first_name": "", "last_name": "Anonymisé", "specialty": "", "rpps": "", "adeli": "",
    "email": "", "phone": "", "address": "", "postal_code": "", "city": "", "insee_code": "", "notes": "",
    "contact_person": "", "newsletter_consent": False, "user": None, "practice_structure": None,
}


def erase_member(member: Member, actor: User, request: HttpRequest | None = None) -> Member:
    """Anonymise personal fields; memberships and payment amounts stay for the accounts."""
    with transaction.atomic():
        for name, value in ERASED_FIELDS.items():
            setattr(member, name, value)
        if member.kind == MemberKind.STRUCTURE:
            member.structure_name = f"Structure anonymisée #{member.pk}"
        member.anonymized_at = timezone.now()
        member.save()
        Payment.objects.filter(membership__member=member).update(reference="")
        audit.record(member.association, actor, "member.erase", member, request=request,
                     target_label=f"Adhérent #{member.pk} (anonymisé)")
    return member


def lapsed_members(association: Association, today: date | None = None):
    """Former members without any membership for ``lapsed_review_years`` years (to review for RGPD)."""
    today = today or timezone.localdate()
    cutoff = date(today.year - association.lapsed_review_years, today.month, min(today.day, 28))
    recent = Q(memberships__end_date__gte=cutoff) & ~Q(memberships__status=MembershipStatus.CANCELLED)
    return (Member.objects.filter(association=association, anonymized_at=None, memberships__isnull=False)
            .exclude(recent).distinct())


def export_member_data(member: Member) -> dict[str, Any]:
    """Everything we hold about one member (RGPD access/portability), JSON-friendly."""
    data = {name: (str(getattr(member, name)) if getattr(member, name) is not None else None)
            for name in MEMBER_FIELDS}
    data["profession"] = member.profession.label if member.profession else None
    data["college"] = member.college.name if member.college else None
    data["practice_structure"] = member.practice_structure.display_name if member.practice_structure else None
    data["status"] = member.get_status_display()
    data["memberships"] = [
        {
            "period": m.period_label, "amount_due": str(m.amount_due), "amount_paid": str(m.amount_paid),
            "status": m.get_status_display(), "paid_on": m.paid_on.isoformat() if m.paid_on else None,
            "number": m.number,
            "payments": [{"amount": str(p.amount), "date": p.paid_on.isoformat(), "method": p.get_method_display()}
                         for p in m.payments.all()],
        }
        for m in member.memberships.prefetch_related("payments")
    ]
    return data


# --- Personal renewal links ------------------------------------------------------------------

RENEWAL_MAX_AGE_DAYS = 60
RENEWAL_TOKEN = TokenKind("associations.membership.renewal", timedelta(days=RENEWAL_MAX_AGE_DAYS),
                          fields={"a": int, "m": int})


def renewal_token(member: Member) -> str:
    """A signed, expiring token good only for renewing this member's membership."""
    return RENEWAL_TOKEN.sign({"a": member.association_id, "m": member.pk})


def renewal_url(member: Member) -> str:
    return settings.SITE_URL + reverse(
        "renewal", kwargs={"association_slug": member.association.slug, "token": renewal_token(member)}
    )


def member_from_renewal_token(association: Association, token: str) -> tuple[Member | None, str | None]:
    """(member, None) when the token is valid for this association, else (None, "expired"|"invalid")."""
    result = RENEWAL_TOKEN.unsign(token, expect={"a": association.pk})
    if not result.ok:
        return None, result.problem_code
    member = Member.objects.filter(association=association, pk=result.payload["m"], anonymized_at=None).first()
    if member is None:
        return None, "invalid"
    return member, None


def email_renewal_link(member: Member) -> str:
    """E-mail one member their personal renewal link: "sent", or "skipped" without a usable address."""
    if member.anonymized_at or not member.email or member.email_invalid:
        return "skipped"
    association = member.association
    message = build_message(association, "renewal_link", {
        "member": member, "url": renewal_url(member), "period": current_period(association),
    }, [member.email])
    message.send()
    return "sent"


def send_renewal_links(association: Association, actor: User, members: list[Member],
                       request: HttpRequest | None = None) -> tuple[int, int]:
    """Queue one renewal e-mail per member with an address; returns (queued, skipped without address)."""
    from associations.membership.tasks import send_renewal_link

    queued = skipped = 0
    with transaction.atomic():
        for member in members:
            if not member.email or member.email_invalid or member.anonymized_at:
                skipped += 1
                continue
            send_renewal_link.delay_on_commit(association.pk, member.pk)
            queued += 1
        audit.record(association, actor, "member.renewal_links", None, request=request,
                     changes={"queued": queued, "skipped": skipped}, target_label=f"{queued} adhérent(s)")
    return queued, skipped


def refresh_all_statuses(association: Association, today: date | None = None) -> dict[str, int]:
    """Bulk version of ``refresh_status`` for a whole association (three UPDATE queries), run daily
    so that members become "à renouveler" when their period ends without anyone touching them."""
    today = today or timezone.localdate()
    # Plain "id IN (subquery)" filters: both SQLite and PostgreSQL plan them well (a correlated
    # EXISTS picked the wrong index on SQLite and grew with members × memberships).
    settled = Membership.objects.filter(association=association, status__in=[MembershipStatus.PAID,
                                                                               MembershipStatus.EXEMPT])
    settled_ids = settled.values("member_id")
    covering_ids = settled.filter(start_date__lte=today, end_date__gte=today).values("member_id")
    members = Member.objects.filter(association=association).exclude(
        status__in=[MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF])
    with transaction.atomic():
        up = members.filter(pk__in=covering_ids).exclude(status=MemberStatus.UP_TO_DATE).update(
            status=MemberStatus.UP_TO_DATE)
        renew = (members.filter(pk__in=settled_ids).exclude(pk__in=covering_ids)
                 .exclude(status=MemberStatus.TO_RENEW).update(status=MemberStatus.TO_RENEW))
        prospect = members.exclude(pk__in=settled_ids).exclude(status=MemberStatus.PROSPECT).update(
            status=MemberStatus.PROSPECT)
    return {"up_to_date": up, "to_renew": renew, "prospect": prospect}
