"""Matrix rows of the coordinator's member directory: list, form, member page and its actions."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scope

from associations.models import AuditLog, Member, Membership, MembershipStatus, MemberStatus, Payment
from tests.factories import make_member, set_tariffs
from tests.tenancy.matrix_base import (
    ALL,
    CALLER,
    EDITORS,
    SET,
    VALIDATORS,
    Case,
    audited,
    exists,
    row_is,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def directory_objects(association, users) -> dict:
    """A member with the current membership (attestation stored) and one payment awaiting validation,
    and a member without any membership yet."""
    from associations.membership import services

    set_tariffs(association)
    member = make_member(association, first_name="Marc", last_name="Matrice", email="marc@example.org")
    with scope(association=association):
        membership = services.open_membership(member, users["coordinator"])
        payment = services.record_payment(membership, users["coordinator"], amount=Decimal("10.00"),
                                          method="cheque", validate=False)
        membership.attestation.save("attestation-test.pdf", ContentFile(PDF), save=True)
    newcomer = make_member(association, first_name="Nora", last_name="Nouvelle", email="nora@example.org")
    return {"member": member.pk, "membership": membership.pk, "payment": payment.pk, "newcomer": newcomer.pk}


SETUP = directory_objects


def opted_out_member(association, users) -> dict:
    member = make_member(association, first_name="Odile", last_name="Désinscrite", email="odile@example.org",
                         mail_opt_out_at=timezone.now())
    return {"opted_out": member.pk}


def _member(o) -> dict:
    return {"pk": o["member"]}


def _payment_recorded(o) -> None:
    """The 5 € transfer is recorded; validated at once only when the caller may validate payments."""
    with scope(association=o["association"]):
        payment = Payment.objects.get(membership=o["membership"], reference="VIR 1")
    assert payment.amount == Decimal("5.00") and payment.method == "transfer"
    assert (payment.validated_at is not None) == (o["caller"] in VALIDATORS), (o["caller"], payment.validated_at)


CASES = {
    "member_list": Case(ALL, setup=SETUP),
    "member_create": Case(EDITORS),
    "member_detail": Case(ALL, kwargs=_member, setup=SETUP),
    "member_edit": Case(EDITORS, kwargs=_member, setup=SETUP),
    "member_open_membership": Case(EDITORS, "post", (302,), kwargs=lambda o: {"pk": o["newcomer"]}, setup=SETUP,
                                   effect=(exists(Membership, member=lambda o: o["newcomer"]),
                                           audited("membership.create"))),
    "member_record_payment": Case(
        EDITORS, "post", (302,),
        lambda o: {"membership": o["membership"], "amount": "5.00", "method": "transfer",
                   "paid_on": timezone.localdate().isoformat(), "reference": "VIR 1"},
        kwargs=_member, setup=SETUP, effect=(_payment_recorded, audited("payment.record")),
    ),
    "payment_validate": Case(VALIDATORS, "post", (302,), kwargs=lambda o: {"pk": o["payment"]}, setup=SETUP,
                             effect=(row_is(Payment, "payment", validated_at=SET, validated_by=CALLER),
                                     audited("payment.validate", "payment"))),
    "membership_set_status": Case(EDITORS, "post", (302,), {"status": "exempt"},
                                  kwargs=lambda o: {"pk": o["membership"]}, setup=SETUP,
                                  effect=(row_is(Membership, "membership", status=MembershipStatus.EXEMPT),
                                          audited("membership.status", "membership"))),
    "membership_attestation": Case(ALL, kwargs=lambda o: {"pk": o["membership"]}, setup=SETUP),
    "member_departure": Case(EDITORS, "post", (302,), {"action": "resigned"}, kwargs=_member, setup=SETUP,
                             effect=(row_is(Member, "member", status=MemberStatus.RESIGNED),
                                     audited("member.departure", "member"))),
    "member_resubscribe": Case(EDITORS, "post", (302,), kwargs=lambda o: {"pk": o["opted_out"]},
                               setup=opted_out_member,
                               effect=(row_is(Member, "opted_out", mail_opt_out_at=None),
                                       audited("member.resubscribe", "opted_out"))),
    "member_bulk": Case(EDITORS, "post", (302,), lambda o: {"ids": [o["member"]], "action": "renewal"},
                        setup=SETUP,
                        effect=exists(AuditLog, action="member.renewal_links", actor=CALLER, changes__queued=1)),
}
