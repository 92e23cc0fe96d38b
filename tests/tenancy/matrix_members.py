"""Matrix rows of the coordinator's member directory: list, form, member page and its actions."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scope

from tests.factories import make_member, set_tariffs
from tests.tenancy.matrix_base import ALL, COORD, EDITORS, Case

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def directory_objects(association, users) -> dict:
    """A member with the current membership (attestation stored) and one payment awaiting validation."""
    from associations.membership import services

    set_tariffs(association)
    member = make_member(association, first_name="Marc", last_name="Matrice", email="marc@example.org")
    with scope(association=association):
        membership = services.open_membership(member, users["coordinator"])
        payment = services.record_payment(membership, users["coordinator"], amount=Decimal("10.00"),
                                          method="cheque", validate=False)
        membership.attestation.save("attestation-test.pdf", ContentFile(PDF), save=True)
    return {"member": member.pk, "membership": membership.pk, "payment": payment.pk}


SETUP = directory_objects


def opted_out_member(association, users) -> dict:
    member = make_member(association, first_name="Odile", last_name="Désinscrite", email="odile@example.org",
                         mail_opt_out_at=timezone.now())
    return {"opted_out": member.pk}


def _member(o) -> dict:
    return {"pk": o["member"]}


CASES = {
    "member_list": Case(ALL, setup=SETUP),
    "member_create": Case(EDITORS),
    "member_detail": Case(ALL, kwargs=_member, setup=SETUP),
    "member_edit": Case(EDITORS, kwargs=_member, setup=SETUP),
    "member_open_membership": Case(EDITORS, "post", (302,), kwargs=_member, setup=SETUP),
    "member_record_payment": Case(
        EDITORS, "post", (302,),
        lambda o: {"membership": o["membership"], "amount": "5.00", "method": "transfer",
                   "paid_on": timezone.localdate().isoformat(), "reference": "VIR 1"},
        kwargs=_member, setup=SETUP,
    ),
    "payment_validate": Case(COORD, "post", (302,), kwargs=lambda o: {"pk": o["payment"]}, setup=SETUP),
    "membership_set_status": Case(EDITORS, "post", (302,), {"status": "exempt"},
                                  kwargs=lambda o: {"pk": o["membership"]}, setup=SETUP),
    "membership_attestation": Case(ALL, kwargs=lambda o: {"pk": o["membership"]}, setup=SETUP),
    "member_departure": Case(EDITORS, "post", (302,), {"action": "resigned"}, kwargs=_member, setup=SETUP),
    "member_resubscribe": Case(EDITORS, "post", (302,), kwargs=lambda o: {"pk": o["opted_out"]},
                               setup=opted_out_member),
    "member_bulk": Case(EDITORS, "post", (302,), lambda o: {"ids": [o["member"]], "action": "renewal"},
                        setup=SETUP),
}
