"""Matrix rows of the membership administration screens: the "à valider" queue, the membership
settings (rules, tariffs, collèges, documents) and the RGPD screens (lapsed members, erase, export)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope

from associations.models import (
    ApplicationStatus,
    AssociationDocument,
    College,
    Member,
    Membership,
    MembershipStatus,
    Tariff,
)
from tests.factories import make_member, set_tariffs
from tests.tenancy.matrix_base import (
    ALL,
    COORD,
    EDITORS,
    MEMBER,
    SET,
    VALIDATORS,
    Case,
    audited,
    deleted,
    exists,
    row_is,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def membership_admin_objects(association, users) -> dict:
    """A pending membership, a pending application, an unused collège, a statutes PDF, a lapsed member."""
    from associations.membership import services
    from associations.models import Profession

    set_tariffs(association)
    renewing = make_member(association, first_name="Paul", last_name="Attente", email="paul@example.org")
    lapsed = make_member(association, first_name="Ancien", last_name="Adhérent", email="ancien@example.org")
    with scope(association=association):
        pending = services.declare_renewal(renewing, method="transfer", data={}, documents_accepted=True)
        applicant = services.apply_for_membership(association, {
            "first_name": "Nina", "last_name": "Demande", "email": "nina@example.org",
            "profession": Profession.objects.get(code="medecin-generaliste"),
        }, method="cheque", documents_accepted=True)
        college = College.objects.create(association=association, name="Usagers")
        document = AssociationDocument(association=association, kind="statutes")
        document.file.save("statuts.pdf", ContentFile(PDF), save=False)
        document.save()
        old_year = timezone.localdate().year - 6
        services.open_membership(lapsed, None, services.period_starting(association, date(old_year, 1, 1)))
    return {"pending_membership": pending.pk, "applicant": applicant.pk, "college": college.pk,
            "document": document.pk, "lapsed": lapsed.pk}


def _upload(_objects) -> dict:
    return {"kind": "rules", "file": SimpleUploadedFile("reglement.pdf", PDF, content_type="application/pdf")}


SETUP = membership_admin_objects

CASES = {
    # Validate_payments (coordinator, treasurer) or manage_members (coordinator, assistant) may open the queue.
    "membership_queue": Case(EDITORS | VALIDATORS, setup=SETUP),
    "membership_validate": Case(VALIDATORS, "post", (302,), {}, kwargs=lambda o: {"pk": o["pending_membership"]},
                                setup=SETUP,
                                effect=(row_is(Membership, "pending_membership", status=MembershipStatus.PAID),
                                        audited("payment.record"))),
    "application_decide": Case(EDITORS, "post", (302,), {"decision": "accept"},
                               kwargs=lambda o: {"pk": o["applicant"]}, setup=SETUP,
                               effect=(row_is(Member, "applicant", application_status=ApplicationStatus.ACCEPTED),
                                       audited("member.application_accept", "applicant"))),
    "membership_settings": Case(COORD, setup=SETUP),
    "tariff_save": Case(COORD, "post", (302,), {"person": "35,00", "structure": "120", "student": "0"}, setup=SETUP,
                        effect=(exists(Tariff, category="person", amount=Decimal("35.00")), audited("tariff.save"))),
    "college_add": Case(COORD, "post", (302,), {"name": "PS libéraux"}, setup=SETUP,
                        effect=(exists(College, name="PS libéraux"), audited("college.create"))),
    "college_edit": Case(COORD, "post", (302,), {"name": "Usagers et patients"},
                         kwargs=lambda o: {"pk": o["college"]}, setup=SETUP,
                         effect=(row_is(College, "college", name="Usagers et patients"),
                                 audited("college.rename", "college"))),
    "college_delete": Case(COORD, "post", (302,), kwargs=lambda o: {"pk": o["college"]}, setup=SETUP,
                           effect=(deleted(College, "college"), audited("college.delete", "college"))),
    "document_upload": Case(COORD, "post", (302,), _upload, setup=SETUP,
                            effect=(exists(AssociationDocument, kind="rules"), audited("document.upload"))),
    # Members read the documents they accept when joining or renewing.
    "association_document": Case(ALL | {MEMBER}, kwargs=lambda o: {"pk": o["document"]}, setup=SETUP),
    "lapsed_members": Case(COORD, setup=SETUP),
    "member_erase": Case(COORD, "post", (302,), {"confirm": "on"}, kwargs=lambda o: {"pk": o["lapsed"]},
                         setup=SETUP,
                         effect=(row_is(Member, "lapsed", anonymized_at=SET), audited("member.erase", "lapsed"))),
    "member_export": Case(ALL, kwargs=lambda o: {"pk": o["lapsed"]}, setup=SETUP),
}
