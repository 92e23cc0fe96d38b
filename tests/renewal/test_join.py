"""The public join page (/p/<slug>/adherer/): a new professional or structure applies."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from associations.models import ApplicationStatus, AuditLog, Member, Membership, MembershipStatus
from tests.factories import make_member
from tests.renewal.conftest import IBAN, profession, text

pytestmark = pytest.mark.django_db

JOIN = "/p/alpha/adherer/"


def join_data(**overrides) -> dict:
    data = {
        "kind": "person", "civility": "mme", "first_name": "Léa", "last_name": "Bernard",
        "profession": profession("infirmier").pk, "practice_mode": "liberal", "rpps": "10000000033",
        "email": "lea.bernard@example.org", "phone": "06 33 33 33 33", "address": "1 place du Marché",
        "postal_code": "37100", "city": "Tours", "accept_statutes": "on", "accept_rules": "on",
        "accept_privacy": "on", "method": "transfer", "website": "",
    }
    data.update(overrides)
    return data


def _counts(association) -> tuple[int, int, int]:
    with scope(association=association):
        return (Member.objects.count(), Membership.objects.count(), AuditLog.objects.count())


def test_join_creates_a_pending_application_with_payment_instructions(client, alpha):
    assert reverse("join", args=["alpha"]) == JOIN
    page = client.get(JOIN)
    assert page.status_code == 200 and "Adhérer à CPTS Alpha" in text(page)
    response = client.post(JOIN, join_data())
    assert response.status_code == 302 and response["Location"] == "/p/alpha/adherer/merci/"
    with scope(association=alpha):
        member = Member.objects.get(email="lea.bernard@example.org")
        membership = Membership.objects.get(member=member)
        assert AuditLog.objects.filter(action="member.apply", target_id=str(member.pk)).exists()
    assert member.application_status == ApplicationStatus.PENDING
    assert (member.first_name, member.rpps, member.profession.code) == ("Léa", "10000000033", "infirmier")
    assert membership.status == MembershipStatus.PENDING and membership.chosen_method == "transfer"
    assert membership.documents_accepted_at is not None

    done = text(client.get(response["Location"]))
    assert "en attente d'acceptation par la coordination" in done
    assert IBAN in done and membership.payment_reference in done and "30,00\u00a0€" in done


def test_a_structure_can_apply(client, alpha):
    data = join_data(kind="structure", structure_name="MSP des Tilleuls", structure_type="msp",
                     contact_person="Dr Roux", rpps="", first_name="", last_name="", profession="",
                     email="msp@example.org")
    assert client.post(JOIN, data).status_code == 302
    with scope(association=alpha):
        member = Member.objects.get(email="msp@example.org")
        assert Membership.objects.get(member=member).amount_due == 100
    assert (member.kind, member.structure_name, member.first_name) == ("structure", "MSP des Tilleuls", "")


def test_duplicate_rpps_is_refused_next_to_the_field_without_revealing_the_member(client, alpha):
    make_member(alpha, first_name="Existant", last_name="Secret", email="secret@example.org", rpps="10000000033",
                phone="05 55 55 55 55")
    before = _counts(alpha)
    response = client.post(JOIN, join_data())
    assert response.status_code == 400
    html = text(response)
    assert list(response.context["form"].errors) == ["rpps"]
    assert 'id="id_rpps_errors"' in html and "Ce numéro RPPS est déjà enregistré auprès de l'association" in html
    for secret in ("Existant", "Secret", "secret@example.org", "05 55 55 55 55"):
        assert secret not in html
    assert _counts(alpha) == before


def test_honeypot_filled_creates_nothing(client, alpha):
    before = _counts(alpha)
    response = client.post(JOIN, join_data(website="http://spam.example"))
    assert response.status_code == 200 and "Demande envoyée" in text(response)
    assert _counts(alpha) == before


def test_missing_fields_and_documents_are_shown_next_to_fields(client, alpha):
    before = _counts(alpha)
    data = join_data(first_name="", profession="", postal_code="1234", rpps="123")
    del data["accept_privacy"]
    response = client.post(JOIN, data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"first_name", "profession", "postal_code", "rpps",
                                                    "accept_privacy"}
    assert "Le numéro RPPS comporte exactement 11 chiffres." in text(response)
    assert _counts(alpha) == before


def test_without_tariff_the_application_is_refused_politely(client, association):
    before = _counts(association)
    response = client.post(JOIN, join_data())
    assert response.status_code == 400
    assert "L'adhésion en ligne n'est pas encore ouverte" in text(response)
    assert _counts(association) == before


def test_thank_you_page_needs_an_application_in_the_session(client, alpha):
    response = client.get("/p/alpha/adherer/merci/")
    assert response.status_code == 302 and response["Location"] == JOIN


def test_unknown_association_is_404(client, alpha):
    assert client.get("/p/inconnue/adherer/").status_code == 404


def test_errors_in_the_fields_of_the_other_kind_are_ignored(client, alpha):
    """A structure's application is not blocked by a half-typed RPPS in the (hidden) person fields."""
    data = join_data(kind="structure", structure_name="Centre de santé du Lac", rpps="12", email="cds@example.org")
    assert client.post(JOIN, data).status_code == 302
    with scope(association=alpha):
        member = Member.objects.get(email="cds@example.org")
    assert member.rpps == "" and member.first_name == ""


def test_join_page_links_the_latest_documents_which_anyone_may_read(client, alpha, documents, other_association):
    from django.core.files.base import ContentFile

    from associations.models import AssociationDocument

    page = text(client.get(JOIN))
    for kind in ("statutes", "rules", "privacy"):
        url = reverse("public_document", kwargs={"association_slug": "alpha", "pk": documents[kind].pk})
        assert url in page
    response = client.get(reverse("public_document", kwargs={"association_slug": "alpha",
                                                             "pk": documents["statutes"].pk}))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 statutes"
    with scope(association=alpha):
        older = AssociationDocument.objects.filter(kind="statutes").exclude(pk=documents["statutes"].pk).get()
    # Older versions are not public; nor are another association's documents.
    assert client.get(reverse("public_document", kwargs={"association_slug": "alpha", "pk": older.pk})
                      ).status_code == 404
    with scope(association=other_association):
        foreign = AssociationDocument(association=other_association, kind="rules")
        foreign.file.save("beta.pdf", ContentFile(b"%PDF beta"), save=True)
    assert client.get(reverse("public_document", kwargs={"association_slug": "alpha", "pk": foreign.pk})
                      ).status_code == 404
