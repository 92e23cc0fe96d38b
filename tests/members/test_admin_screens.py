"""Membership administration screens: the "à valider" queue, the membership settings (rules, tariffs,
collèges, documents) and the RGPD screens (lapsed members, anonymisation, export of one member).

Through the HTTP client as the coordinator unless said otherwise; other tenants' ids give 404 and
change nothing; lists keep a constant number of queries whatever the number of rows.
"""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations.membership import services
from associations.models import (
    ApplicationStatus,
    AssociationDocument,
    AuditLog,
    College,
    Member,
    Membership,
    MembershipStatus,
    Payment,
    Profession,
    Role,
    Tariff,
)
from tests.factories import make_member, set_tariffs

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"


def text(response) -> str:
    """The page as a reader sees it (entities such as ' unescaped)."""
    return html.unescape(response.content.decode())


def url(name: str, association, **kwargs) -> str:
    return reverse(name, kwargs={"association_slug": association.slug, **kwargs})


def actions(association) -> list[str]:
    with scope(association=association):
        return list(AuditLog.objects.filter(association=association).values_list("action", flat=True))


def pending_renewal(association, **kwargs) -> Membership:
    kwargs.setdefault("email", "paul@example.org")
    member = make_member(association, **{"first_name": "Paul", "last_name": "Attente", **kwargs})
    with scope(association=association):
        return services.declare_renewal(member, method="transfer", data={}, documents_accepted=True)


def application(association, n: int = 0) -> Member:
    with scope(association=association):
        return services.apply_for_membership(association, {
            "first_name": "Nina", "last_name": f"Demande{n}", "email": f"nina{n}@example.org",
            "profession": Profession.objects.get(code="infirmier"),
        }, method="cheque", documents_accepted=True)


def lapsed(association, years_ago: int = 6, **kwargs) -> Member:
    member = make_member(association, **{"first_name": "Ancien", "last_name": "Adhérent",
                                         "email": "ancien@example.org", **kwargs})
    with scope(association=association):
        start = date(timezone.localdate().year - years_ago, 1, 1)
        services.open_membership(member, None, services.period_starting(association, start))
    return member


@pytest.fixture
def tariffs(association, other_association):
    set_tariffs(association)
    set_tariffs(other_association)


# --- The "à valider" queue --------------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_lists_pending_payments_and_applications(coordinator_client, association, tariffs):
    membership = pending_renewal(association)
    applicant = application(association)
    response = coordinator_client.get(url("membership_queue", association))
    assert response.status_code == 200
    page = text(response)
    assert "Paul ATTENTE" in page and membership.payment_reference in page and "30,00\u00a0€" in page
    assert "Virement" in page and "Valider le paiement reçu" in page
    assert "Nina DEMANDE0" in page and applicant.email in page and "Accepter" in page and "Refuser" in page
    # The applicant's own pending membership is flagged as a new application in the payments section.
    assert "Nouvelle demande" in page


@pytest.mark.django_db
def test_queue_empty_states_in_french(coordinator_client, association):
    page = text(coordinator_client.get(url("membership_queue", association)))
    assert "Aucun paiement en attente de validation." in page
    assert "Aucune demande d'adhésion en attente." in page


@pytest.mark.django_db
def test_assistant_sees_the_queue_but_cannot_validate_payments(client, users, association, tariffs):
    membership = pending_renewal(association)
    application(association)
    client.force_login(users[Role.ASSISTANT])
    page = text(client.get(url("membership_queue", association)))
    assert "Paul ATTENTE" in page and "Valider le paiement reçu" not in page and "Accepter" in page
    assert client.post(url("membership_validate", association, pk=membership.pk)).status_code == 403
    with scope(association=association):
        assert Membership.objects.get(pk=membership.pk).status == MembershipStatus.PENDING


@pytest.mark.django_db
def test_validating_a_pending_payment_marks_it_paid_and_emails_the_attestation(
        coordinator_client, association, tariffs, django_capture_on_commit_callbacks):
    membership = pending_renewal(association)
    received = timezone.localdate() - timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url("membership_validate", association, pk=membership.pk),
                                           {"paid_on": received.isoformat()})
    assert response.status_code == 302 and response["Location"] == url("membership_queue", association)
    with scope(association=association):
        membership.refresh_from_db()
        payment = Payment.objects.get(membership=membership)
    assert membership.status == MembershipStatus.PAID and membership.amount_paid == Decimal("30.00")
    assert membership.paid_on == received and membership.number and membership.attestation
    assert (payment.amount, payment.method, payment.reference) == (Decimal("30.00"), "transfer",
                                                                   membership.payment_reference)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["paul@example.org"]
    assert mail.outbox[0].attachments[0][2] == "application/pdf"
    assert "payment.record" in actions(association)
    page = text(coordinator_client.get(response["Location"]))
    assert "Paiement validé" in page and "Aucun paiement en attente de validation." in page


@pytest.mark.django_db
def test_validation_with_a_future_date_is_refused_next_to_the_field(coordinator_client, association, tariffs):
    membership = pending_renewal(association)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = coordinator_client.post(url("membership_validate", association, pk=membership.pk),
                                       {"paid_on": tomorrow.isoformat()})
    assert response.status_code == 400
    assert "La date de réception ne peut pas être dans le futur." in text(response)
    assert f'id="id_paid_on_{membership.pk}_errors"' in text(response)
    with scope(association=association):
        assert Membership.objects.get(pk=membership.pk).status == MembershipStatus.PENDING
        assert not Payment.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_validating_a_membership_that_is_not_pending_says_so(coordinator_client, association, tariffs):
    member = make_member(association)
    with scope(association=association):
        membership = services.open_membership(member, None)  # due, never declared online
    response = coordinator_client.post(url("membership_validate", association, pk=membership.pk), follow=True)
    assert "pas en attente de validation" in text(response)
    with scope(association=association):
        assert not Payment.objects.exists()


@pytest.mark.django_db
def test_accept_and_refuse_applications(coordinator_client, association, tariffs):
    accepted, refused = application(association, 1), application(association, 2)
    response = coordinator_client.post(url("application_decide", association, pk=accepted.pk),
                                       {"decision": "accept"}, follow=True)
    assert "Demande d'adhésion de Nina DEMANDE1 acceptée." in text(response)
    coordinator_client.post(url("application_decide", association, pk=refused.pk), {"decision": "refuse"})
    with scope(association=association):
        accepted.refresh_from_db()
        refused.refresh_from_db()
        assert accepted.application_status == ApplicationStatus.ACCEPTED and accepted.joined_on
        assert refused.application_status == ApplicationStatus.REFUSED
        assert list(refused.memberships.values_list("status", flat=True)) == [MembershipStatus.CANCELLED]
        # Accepting keeps the declared payment waiting for validation.
        assert list(accepted.memberships.values_list("status", flat=True)) == [MembershipStatus.PENDING]
    assert {"member.application_accept", "member.application_refuse"} <= set(actions(association))
    # Deciding twice is refused with a message, nothing changes.
    again = coordinator_client.post(url("application_decide", association, pk=refused.pk),
                                    {"decision": "accept"}, follow=True)
    assert "déjà été traitée" in text(again)
    with scope(association=association):
        refused.refresh_from_db()
        assert refused.application_status == ApplicationStatus.REFUSED


@pytest.mark.django_db
def test_unknown_decision_changes_nothing(coordinator_client, association, tariffs):
    applicant = application(association)
    response = coordinator_client.post(url("application_decide", association, pk=applicant.pk),
                                       {"decision": "maybe"}, follow=True)
    assert "Choisissez « Accepter » ou « Refuser »." in text(response)
    with scope(association=association):
        applicant.refresh_from_db()
        assert applicant.application_status == ApplicationStatus.PENDING


# --- Membership settings ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_settings_page_shows_every_section(coordinator_client, association):
    page = text(coordinator_client.get(url("membership_settings", association)))
    for expected in ("Période d'adhésion", "IBAN", "Ordre des chèques", "Tarifs de la cotisation", "Collèges",
                     "Statuts", "Règlement intérieur", "Notice d'information RGPD", "Aucun document déposé."):
        assert expected in page
    assert 'for="id_iban"' in page and 'for="id_person"' in page and 'for="id_new_name"' in page


@pytest.mark.django_db
def test_settings_are_saved_normalised_and_audited(coordinator_client, association):
    response = coordinator_client.post(url("membership_settings", association), {
        "membership_period": "rolling", "iban": VALID_IBAN.lower(), "bic": "bnpafrpp",
        "cheque_payee": "CPTS Alpha", "cheque_address": "1 rue de la Santé, 37000 Tours", "lapsed_review_years": "5",
    })
    assert response.status_code == 302
    association.refresh_from_db()
    assert association.membership_period == "rolling"
    assert association.iban == "FR7630006000011234567890189" and association.bic == "BNPAFRPP"
    assert (association.cheque_payee, association.lapsed_review_years) == ("CPTS Alpha", 5)
    with scope(association=association):
        log = AuditLog.objects.get(action="membership.settings")
    assert log.changes["membership_period"] == ["civil", "rolling"]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), [
    ("iban", "FR76 3000 6000 0112 3456 7890 188", "Cet IBAN n'est pas valide (clé de contrôle incorrecte)."),
    ("iban", "7630006000011234567890189", "L'IBAN commence par 2 lettres"),
    ("bic", "BNPA", "Le BIC comporte 8 ou 11 caractères"),
    ("lapsed_review_years", "0", "Indiquez au moins 1 an."),
])
def test_bad_settings_are_refused_in_french_and_nothing_is_written(coordinator_client, association, field, value,
                                                                   message):
    data = {"membership_period": "rolling", "iban": VALID_IBAN, "bic": "BNPAFRPP", "cheque_payee": "X",
            "cheque_address": "", "lapsed_review_years": "3", field: value}
    response = coordinator_client.post(url("membership_settings", association), data)
    assert response.status_code == 400
    page = text(response)
    assert message in page and f'id="id_{field}_errors"' in page
    association.refresh_from_db()
    assert (association.membership_period, association.iban, association.cheque_payee) == ("civil", "", "")
    assert "membership.settings" not in actions(association)


@pytest.mark.django_db
def test_tariffs_are_created_then_updated(coordinator_client, association):
    response = coordinator_client.post(url("tariff_save", association),
                                       {"person": "30,50", "structure": "100", "student": "0"})
    assert response.status_code == 302
    coordinator_client.post(url("tariff_save", association), {"person": "35", "structure": "100", "student": "0"})
    with scope(association=association):
        amounts = dict(Tariff.objects.values_list("category", "amount"))
        logs = list(AuditLog.objects.filter(action="tariff.save").order_by("id"))
    assert amounts == {"person": Decimal("35.00"), "structure": Decimal("100.00"), "student": Decimal("0.00")}
    assert len(logs) == 2 and logs[1].changes == {"person": ["30.50", "35.00"]}


@pytest.mark.django_db
def test_negative_tariff_is_refused_and_nothing_is_written(coordinator_client, association):
    set_tariffs(association)
    response = coordinator_client.post(url("tariff_save", association),
                                       {"person": "-5", "structure": "150", "student": "0"})
    assert response.status_code == 400
    assert "Le montant ne peut pas être négatif." in text(response)
    with scope(association=association):
        assert dict(Tariff.objects.values_list("category", "amount"))["structure"] == Decimal("100.00")
    assert "tariff.save" not in actions(association)


@pytest.mark.django_db
def test_colleges_add_rename_delete(coordinator_client, association):
    assert coordinator_client.post(url("college_add", association), {"name": "  PS   libéraux "}).status_code == 302
    with scope(association=association):
        college = College.objects.get()
    assert college.name == "PS libéraux"
    coordinator_client.post(url("college_edit", association, pk=college.pk), {"name": "Professionnels libéraux"})
    with scope(association=association):
        college.refresh_from_db()
    assert college.name == "Professionnels libéraux"
    assert coordinator_client.post(url("college_delete", association, pk=college.pk)).status_code == 302
    with scope(association=association):
        assert not College.objects.exists()
    assert {"college.create", "college.rename", "college.delete"} <= set(actions(association))


@pytest.mark.django_db
def test_duplicate_college_name_is_refused(coordinator_client, association):
    with scope(association=association):
        College.objects.create(association=association, name="Usagers")
        other = College.objects.create(association=association, name="Structures")
    response = coordinator_client.post(url("college_add", association), {"name": "usagers"})
    assert response.status_code == 400 and "Un collège porte déjà ce nom." in text(response)
    response = coordinator_client.post(url("college_edit", association, pk=other.pk), {"name": "USAGERS"})
    assert response.status_code == 400 and "Un collège porte déjà ce nom." in text(response)
    assert f'id="id_name_{other.pk}_errors"' in text(response)
    with scope(association=association):
        assert sorted(College.objects.values_list("name", flat=True)) == ["Structures", "Usagers"]


@pytest.mark.django_db
def test_a_college_in_use_cannot_be_deleted(coordinator_client, association):
    with scope(association=association):
        college = College.objects.create(association=association, name="Usagers")
    make_member(association, college=college)
    response = coordinator_client.post(url("college_delete", association, pk=college.pk))
    assert response.status_code == 400
    assert "Ce collège ne peut pas être supprimé : 1 adhérent(s) y sont rattachés." in text(response)
    with scope(association=association):
        assert College.objects.filter(pk=college.pk).exists()
    assert "college.delete" not in actions(association)


@pytest.mark.django_db
def test_document_upload_is_stored_under_the_association_and_downloadable(client, users, coordinator_client,
                                                                          association):
    response = coordinator_client.post(url("document_upload", association), {
        "kind": "rules", "file": SimpleUploadedFile("Règlement intérieur 2026.pdf", PDF, "application/pdf"),
    })
    assert response.status_code == 302
    with scope(association=association):
        document = AssociationDocument.objects.get()
    assert document.kind == "rules" and document.uploaded_by == users[Role.COORDINATOR]
    assert document.file.name.startswith(f"associations/{association.pk}/documents/rules/")
    page = text(coordinator_client.get(url("membership_settings", association)))
    assert url("association_document", association, pk=document.pk) in page
    download = coordinator_client.get(url("association_document", association, pk=document.pk))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    # A member with a login reads the documents they accept.
    make_member(association, user=users["member"], email=users["member"].email)
    client.force_login(users["member"])
    assert client.get(url("association_document", association, pk=document.pk)).status_code == 200
    assert "document.upload" in actions(association)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "message"), [
    ("statuts.docx", b"PK\x03\x04 not a pdf", "Seuls les fichiers PDF sont acceptés."),
    ("statuts.pdf", b"<html>not a pdf</html>", "Ce fichier n'est pas un PDF valide."),
    ("statuts.pdf", b"%PDF-1.4" + b"0" * (10 * 1024 * 1024), "Le fichier ne doit pas dépasser 10 Mo."),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(coordinator_client, association, settings, name, content,
                                                       message):
    response = coordinator_client.post(url("document_upload", association), {
        "kind": "statutes", "file": SimpleUploadedFile(name, content, "application/pdf"),
    })
    assert response.status_code == 400
    page = text(response)
    assert message in page and 'id="id_file_errors"' in page
    with scope(association=association):
        assert not AssociationDocument.objects.exists()
    assert not (settings.MEDIA_ROOT / "associations").exists()
    assert "document.upload" not in actions(association)


# --- Other tenants --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_other_tenant_ids_are_404_and_change_nothing(coordinator_client, association, other_association, tariffs):
    pending = pending_renewal(other_association)
    applicant = application(other_association)
    old = lapsed(other_association)
    with scope(association=other_association):
        college = College.objects.create(association=other_association, name="Usagers")
        document = AssociationDocument(association=other_association, kind="statutes")
        document.file.save("statuts.pdf", ContentFile(PDF), save=False)
        document.save()
    requests = [
        ("post", "membership_validate", pending.pk, {}),
        ("post", "application_decide", applicant.pk, {"decision": "refuse"}),
        ("post", "college_edit", college.pk, {"name": "Piraté"}),
        ("post", "college_delete", college.pk, {}),
        ("get", "association_document", document.pk, {}),
        ("post", "member_erase", old.pk, {"confirm": "on"}),
        ("get", "member_export", old.pk, {"format": "json"}),
    ]
    for method, name, pk, data in requests:
        response = getattr(coordinator_client, method)(url(name, association, pk=pk), data)
        assert response.status_code == 404, name
    with scope(association=other_association):
        assert Membership.objects.get(pk=pending.pk).status == MembershipStatus.PENDING
        assert Member.objects.get(pk=applicant.pk).application_status == ApplicationStatus.PENDING
        assert College.objects.get(pk=college.pk).name == "Usagers"
        assert Member.objects.get(pk=old.pk).anonymized_at is None
    assert actions(association) == []


# --- RGPD -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_lapsed_members_are_listed_with_their_last_period(coordinator_client, association, tariffs):
    old = lapsed(association)
    recent = make_member(association, first_name="Toujours", last_name="Là")
    with scope(association=association):
        services.open_membership(recent, None)
    page = text(coordinator_client.get(url("lapsed_members", association)))
    assert "Ancien ADHÉRENT" in page and str(timezone.localdate().year - 6) in page and "À régler" in page
    assert "Toujours LÀ" not in page
    assert url("member_erase", association, pk=old.pk) in page
    assert "Je confirme l'anonymisation définitive" in page


@pytest.mark.django_db
def test_lapsed_members_empty_state(coordinator_client, association):
    page = text(coordinator_client.get(url("lapsed_members", association)))
    assert "Aucun ancien adhérent à revoir." in page


@pytest.mark.django_db
def test_erase_needs_the_confirmation_then_keeps_the_amounts(coordinator_client, association, tariffs):
    old = lapsed(association, phone="0601020304", rpps="10003456789")
    with scope(association=association):
        membership = old.memberships.get()
        services.record_payment(membership, None, amount=Decimal("30.00"), method="cheque", reference="CHQ 123",
                                paid_on=membership.start_date)
    response = coordinator_client.post(url("member_erase", association, pk=old.pk), {})
    assert response.status_code == 400
    assert "Cochez « Je confirme l'anonymisation définitive »" in text(response)
    with scope(association=association):
        old.refresh_from_db()
    assert old.anonymized_at is None and old.email == "ancien@example.org"

    response = coordinator_client.post(url("member_erase", association, pk=old.pk), {"confirm": "on"}, follow=True)
    assert "a été anonymisé·e" in text(response)
    with scope(association=association):
        old.refresh_from_db()
        membership.refresh_from_db()
        payment = Payment.objects.get(membership=membership)
    assert old.anonymized_at and old.email == "" and old.first_name == "" and old.rpps == "" and old.phone == ""
    assert membership.amount_due == membership.amount_paid == Decimal("30.00")
    assert membership.status == MembershipStatus.PAID
    assert payment.amount == Decimal("30.00") and payment.reference == ""
    assert "member.erase" in actions(association)
    # No longer on the review list.
    assert "Ancien ADHÉRENT" not in text(coordinator_client.get(url("lapsed_members", association)))


@pytest.mark.django_db
def test_erase_without_confirmation_of_a_member_not_on_the_list_says_it(coordinator_client, association):
    member = make_member(association, email="actif@example.org")
    response = coordinator_client.post(url("member_erase", association, pk=member.pk), {}, follow=True)
    assert "Cochez « Je confirme l'anonymisation définitive »" in text(response)
    with scope(association=association):
        member.refresh_from_db()
    assert member.anonymized_at is None


@pytest.fixture
def two_members(association, tariffs):
    claire = make_member(association, first_name="Claire", last_name="Export", email="claire@example.org",
                         rpps="10003456789", phone="=HYPERLINK(\"http://x\")")
    other = make_member(association, first_name="Bruno", last_name="Voisin", email="bruno@example.org")
    with scope(association=association):
        for year in (2024, 2025):
            membership = services.open_membership(claire, None, services.period_starting(association,
                                                                                          date(year, 1, 1)))
            services.record_payment(membership, None, amount=Decimal("30.00"), method="transfer",
                                    paid_on=date(year, 2, 1))
        services.open_membership(other, None, services.period_starting(association, date(2025, 1, 1)))
    return claire, other


@pytest.mark.django_db
def test_json_export_contains_the_member_and_nothing_of_another(coordinator_client, association, two_members):
    claire, _other = two_members
    response = coordinator_client.get(url("member_export", association, pk=claire.pk), {"format": "json"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith(f'attachment; filename="adherent-{claire.pk}-')
    body = text(response)
    data = json.loads(body)
    assert data["email"] == "claire@example.org" and data["rpps"] == "10003456789"
    assert sorted(m["period"] for m in data["memberships"]) == ["2024", "2025"]
    assert data["memberships"][0]["payments"][0]["amount"] == "30.00"
    assert "  " in body  # pretty-printed
    assert "bruno" not in body.lower() and "Voisin" not in body
    with scope(association=association):
        assert AuditLog.objects.get(action="member.export").changes == {"format": "json"}


@pytest.mark.django_db
def test_csv_export_has_one_row_per_membership_with_identity(client, users, association, two_members):
    claire, _other = two_members
    client.force_login(users[Role.VIEWER])  # every staff role may export (view_members)
    response = client.get(url("member_export", association, pk=claire.pk), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == 2
    assert {row["période"] for row in rows} == {"2024", "2025"}
    assert all(row["e-mail"] == "claire@example.org" and row["prénom"] == "Claire" for row in rows)
    assert all(row["montant réglé"] == "30.00" for row in rows)
    # A formula typed in a text field does not run in a spreadsheet.
    assert rows[0]["téléphone"].startswith("'=")
    assert "bruno" not in content.lower()


@pytest.mark.django_db
def test_export_of_a_member_without_membership_and_unknown_format(coordinator_client, association):
    member = make_member(association, email="seul@example.org")
    response = coordinator_client.get(url("member_export", association, pk=member.pk), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["e-mail"] == "seul@example.org" and rows[0]["période"] == ""
    bad = coordinator_client.get(url("member_export", association, pk=member.pk), {"format": "xml"})
    assert bad.status_code == 400 and "Format d'export inconnu" in text(bad)
    with scope(association=association):
        assert not AuditLog.objects.filter(action="member.export", changes__format="xml").exists()


# --- Constant query counts ---------------------------------------------------------------------------------


def _count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_queue_query_count_does_not_grow_with_rows(coordinator_client, association, tariffs,
                                                   django_assert_num_queries):
    for n in range(2):
        pending_renewal(association, email=f"p{n}@example.org", last_name=f"Attente{n}")
        application(association, n)
    path = url("membership_queue", association)
    # session, user, association, role (middleware); pending memberships + members (1 join);
    # pending applications + professions (1 join); the association switcher of the layout.
    small = _count_queries(coordinator_client, path)
    for n in range(2, 40):
        pending_renewal(association, email=f"p{n}@example.org", last_name=f"Attente{n}")
        application(association, n)
    with django_assert_num_queries(small):
        response = coordinator_client.get(path)
    assert text(response).count("Valider le paiement reçu<span") == 80  # 40 renewals + 40 applicants


@pytest.mark.django_db
def test_lapsed_list_query_count_does_not_grow_with_rows(coordinator_client, association, tariffs,
                                                         django_assert_num_queries):
    for n in range(2):
        lapsed(association, email=f"a{n}@example.org", last_name=f"Ancien{n}")
    path = url("lapsed_members", association)
    # middleware (session, user, association, role); lapsed members; their memberships (one prefetch);
    # the association switcher of the layout.
    small = _count_queries(coordinator_client, path)
    for n in range(2, 40):
        lapsed(association, email=f"a{n}@example.org", last_name=f"Ancien{n}")
    with django_assert_num_queries(small):
        response = coordinator_client.get(path)
    assert text(response).count('name="confirm"') == 40


@pytest.mark.django_db
def test_settings_query_count_does_not_grow_with_colleges_and_documents(coordinator_client, association,
                                                                        django_assert_num_queries):
    def add(n: int) -> None:
        with scope(association=association):
            College.objects.create(association=association, name=f"Collège {n}")
            make_member(association, college=College.objects.get(name=f"Collège {n}"), email=f"c{n}@example.org")
            document = AssociationDocument(association=association, kind=("statutes", "rules", "privacy")[n % 3])
            document.file.save(f"doc{n}.pdf", ContentFile(PDF), save=False)
            document.save()

    for n in range(2):
        add(n)
    path = url("membership_settings", association)
    # middleware (4); tariffs; collèges with member counts; latest documents with uploader; layout switcher.
    small = _count_queries(coordinator_client, path)
    for n in range(2, 20):
        add(n)
    with django_assert_num_queries(small):
        response = coordinator_client.get(path)
    assert text(response).count("Renommer<") == 20
