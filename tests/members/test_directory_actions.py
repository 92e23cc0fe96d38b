"""The member page and its actions (open a membership, record/validate payments, exempt/cancel,
departure, attestation download) and the bulk actions of the directory."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations.membership import services
from associations.models import (
    AuditLog,
    College,
    Member,
    Membership,
    MembershipStatus,
    MemberStatus,
    Payment,
    Role,
    Tariff,
    UserRole,
)
from associations.registries import audit_action_label
from tests.factories import make_member, set_tariffs

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def url(name: str, association, **kwargs) -> str:
    return reverse(name, kwargs={"association_slug": association.slug, **kwargs})


def login(client, users, role):
    client.force_login(users[role])
    return client



@pytest.fixture
def membership(association, coordinator, claire):
    with scope(association=association):
        return services.open_membership(claire, coordinator)


def payments(association):
    with scope(association=association):
        return list(Payment.objects.filter(association=association).order_by("id"))


def refreshed(association, obj):
    with scope(association=association):
        obj.refresh_from_db()
    return obj


# --- Member page -----------------------------------------------------------------------------------


def test_member_page_shows_memberships_payments_and_history(client, association, users, claire, membership):
    other = make_member(association, first_name="Autre", last_name="Personne")
    with scope(association=association):
        services.open_membership(other, users[Role.COORDINATOR])
        services.record_payment(membership, users[Role.ASSISTANT], amount=Decimal("10.00"), method="cheque",
                                reference="CHQ 123", validate=False)
    login(client, users, Role.COORDINATOR)
    html = client.get(url("member_detail", association, pk=claire.pk)).content.decode()
    period = membership.period_label
    assert f'<th scope="row">{period}</th>' in html
    assert "30,00\u00a0€" in html and "10,00\u00a0€" in html and "CHQ 123" in html and "Chèque" in html
    assert "En attente de validation" in html
    assert url("payment_validate", association, pk=payments(association)[0].pk) in html
    # History: this member's rows (creation, membership, payment), not the other member's.
    for action in ("member.create", "membership.create", "payment.record"):
        assert f"<strong>{audit_action_label(action)}</strong>" in html
    assert "Autre PERSONNE" not in html
    # Editors' actions: current period already open, so no "Ouvrir l'adhésion" button.
    assert url("member_record_payment", association, pk=claire.pk) in html
    assert url("member_open_membership", association, pk=claire.pk) not in html


def test_viewer_sees_the_page_without_actions(client, association, users, claire, membership):
    with scope(association=association):
        services.record_payment(membership, users[Role.ASSISTANT], amount=Decimal("10.00"), method="cheque",
                                validate=False)
    login(client, users, Role.VIEWER)
    response = client.get(url("member_detail", association, pk=claire.pk))
    html = response.content.decode()
    assert response.status_code == 200 and "Claire MARTIN" in html
    for name, pk in (("member_edit", claire.pk), ("member_record_payment", claire.pk),
                     ("member_departure", claire.pk), ("membership_set_status", membership.pk),
                     ("payment_validate", payments(association)[0].pk)):
        assert url(name, association, pk=pk) not in html


def test_member_page_queries_do_not_grow(coordinator_client, association, coordinator, claire,
                                         django_assert_num_queries):
    """Session, user, association, role; member (+profession, collège, structure); memberships; their
    payments (+validator); history; duplicates; the association switcher; the payment form's choices."""
    with scope(association=association):
        first = services.open_membership(claire, coordinator, services.previous_period(association))
        services.record_payment(first, coordinator, amount=Decimal("5"), method="cash")
    page = url("member_detail", association, pk=claire.pk)
    coordinator_client.get(page)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        coordinator_client.get(page)
    with scope(association=association):
        for year_offset in range(2, 6):
            day = timezone.localdate().replace(year=timezone.localdate().year - year_offset, month=1, day=1)
            old = services.open_membership(claire, coordinator, services.period_starting(association, day))
            services.record_payment(old, coordinator, amount=Decimal("10"), method="cheque", validate=False)
            services.record_payment(old, coordinator, amount=Decimal("20"), method="transfer")
    with django_assert_num_queries(len(small.captured_queries)):
        response = coordinator_client.get(page)
    assert response.content.decode().count(f"<strong>{audit_action_label('payment.record')}</strong>") == 9


def test_other_associations_ids_are_404(coordinator_client, association, other_association, users):
    set_tariffs(other_association)
    foreign = make_member(other_association, first_name="Ailleurs", last_name="Bernard")
    with scope(association=other_association):
        foreign_membership = services.open_membership(foreign, users["outsider"])
        foreign_payment = services.record_payment(foreign_membership, users["outsider"], amount=Decimal("5"),
                                                  method="cash", validate=False)
        foreign_membership.attestation.save("attestation.pdf", ContentFile(PDF), save=True)
    cases = [
        ("get", "member_detail", foreign.pk, {}),
        ("get", "membership_attestation", foreign_membership.pk, {}),
        ("post", "member_open_membership", foreign.pk, {}),
        ("post", "member_record_payment", foreign.pk, {"membership": foreign_membership.pk, "amount": "5",
                                                       "method": "cash", "paid_on": "2026-01-02"}),
        ("post", "payment_validate", foreign_payment.pk, {}),
        ("post", "membership_set_status", foreign_membership.pk, {"status": "exempt"}),
        ("post", "member_departure", foreign.pk, {"action": "resigned"}),
    ]
    for method, name, pk, data in cases:
        response = getattr(coordinator_client, method)(url(name, association, pk=pk), data)
        assert response.status_code == 404, name
    with scope(association=other_association):
        foreign.refresh_from_db()
        foreign_payment.refresh_from_db()
        foreign_membership.refresh_from_db()
        assert foreign.status != MemberStatus.RESIGNED and foreign_payment.validated_at is None
        assert foreign_membership.status == MembershipStatus.DUE and foreign_membership.payments.count() == 1


def test_actions_are_post_only(coordinator_client, association, claire, membership):
    for name, pk in (("member_open_membership", claire.pk), ("member_record_payment", claire.pk),
                     ("member_departure", claire.pk), ("membership_set_status", membership.pk)):
        assert coordinator_client.get(url(name, association, pk=pk)).status_code == 405
    assert coordinator_client.get(url("member_bulk", association)).status_code == 405


# --- Open a membership --------------------------------------------------------------------------


def test_open_membership_of_the_current_period(coordinator_client, association, claire):
    response = coordinator_client.post(url("member_open_membership", association, pk=claire.pk), follow=True)
    period = services.current_period(association)
    with scope(association=association):
        opened = Membership.objects.get(member=claire)
    assert (opened.period_label, opened.amount_due, opened.status) == (period.label, Decimal("30.00"),
                                                                       MembershipStatus.DUE)
    assert f"Adhésion {period.label} ouverte : 30,00\u00a0€ à régler." in response.content.decode()
    again = coordinator_client.post(url("member_open_membership", association, pk=claire.pk), follow=True)
    assert f"L&#x27;adhésion {period.label} existe déjà." in again.content.decode()
    with scope(association=association):
        assert Membership.objects.filter(member=claire).count() == 1


def test_open_membership_without_tariff_is_an_error(coordinator_client, association, claire):
    with scope(association=association):
        Tariff.objects.filter(association=association, category="person").delete()
    response = coordinator_client.post(url("member_open_membership", association, pk=claire.pk), follow=True)
    assert "Aucun tarif n&#x27;est défini" in response.content.decode()
    with scope(association=association):
        assert not Membership.objects.filter(member=claire).exists()


# --- Payments -------------------------------------------------------------------------------------


def payment_data(membership, **overrides) -> dict:
    data = {"membership": membership.pk, "amount": "30.00", "method": "transfer",
            "paid_on": timezone.localdate().isoformat(), "reference": "VIR MARTIN"}
    data.update(overrides)
    return data


def test_assistant_records_an_unvalidated_payment(client, association, users, claire, membership):
    login(client, users, Role.ASSISTANT)
    response = client.post(url("member_record_payment", association, pk=claire.pk), payment_data(membership),
                           follow=True)
    assert "en attente de validation par la coordination" in response.content.decode()
    [payment] = payments(association)
    assert payment.validated_at is None and payment.reference == "VIR MARTIN"
    membership = refreshed(association, membership)
    assert membership.amount_paid == Decimal("0.00") and membership.status == MembershipStatus.DUE
    # The assistant cannot validate it; the coordinator can.
    assert client.post(url("payment_validate", association, pk=payment.pk)).status_code == 403
    login(client, users, Role.COORDINATOR)
    validated = client.post(url("payment_validate", association, pk=payment.pk), follow=True)
    assert "Paiement de 30,00\u00a0€ validé" in validated.content.decode()
    payment = refreshed(association, payment)
    assert payment.validated_by == users[Role.COORDINATOR] and payment.validated_at is not None
    assert refreshed(association, membership).status == MembershipStatus.PAID
    again = client.post(url("payment_validate", association, pk=payment.pk), follow=True)
    assert "Ce paiement était déjà validé." in again.content.decode()
    with scope(association=association):
        assert AuditLog.objects.filter(action="payment.validate").count() == 1


def test_coordinator_records_a_validated_payment(coordinator_client, association, coordinator, claire, membership):
    response = coordinator_client.post(url("member_record_payment", association, pk=claire.pk),
                                       payment_data(membership, amount="30"))
    assert response.status_code == 302
    [payment] = payments(association)
    assert payment.validated_by == coordinator
    membership = refreshed(association, membership)
    assert membership.status == MembershipStatus.PAID and membership.amount_paid == Decimal("30.00")


def test_treasurer_validates_but_does_not_record(client, association, users, claire, membership):
    with scope(association=association):
        UserRole.objects.filter(user=users[Role.VIEWER]).update(is_treasurer=True)
        payment = services.record_payment(membership, users[Role.ASSISTANT], amount=Decimal("30"),
                                          method="cheque", validate=False)
    login(client, users, Role.VIEWER)
    assert client.post(url("member_record_payment", association, pk=claire.pk),
                       payment_data(membership)).status_code == 403
    assert client.post(url("payment_validate", association, pk=payment.pk)).status_code == 302
    assert refreshed(association, payment).validated_by == users[Role.VIEWER]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"amount": "-5"}, "amount", "Le montant doit être positif."),
    ({"amount": "trente"}, "amount", "Saisissez un nombre."),
    ({"amount": ""}, "amount", "Ce champ est obligatoire."),
    ({"method": "bitcoin"}, "method", "Sélectionnez un choix valide."),
    ({"paid_on": "2999-01-01"}, "paid_on", "La date de paiement ne peut pas être dans le futur."),
    ({"paid_on": "32/13/2026"}, "paid_on", "Saisissez une date valide."),
])
def test_bad_payment_input_is_shown_next_to_the_field(coordinator_client, association, claire, membership,
                                                      overrides, field, message):
    response = coordinator_client.post(url("member_record_payment", association, pk=claire.pk),
                                       payment_data(membership, **overrides))
    assert response.status_code == 400
    html = response.content.decode()
    start = html.index(f'id="id_{field}_errors"')
    assert message in html[start:start + 300]
    assert payments(association) == []


def test_payment_on_another_members_or_associations_membership_is_refused(
        coordinator_client, association, other_association, users, claire, membership):
    set_tariffs(other_association)
    colleague = make_member(association, first_name="Paul", last_name="Voisin")
    foreign = make_member(other_association, first_name="Ailleurs", last_name="Bernard")
    with scope(association=association):
        colleague_membership = services.open_membership(colleague, users[Role.COORDINATOR])
    with scope(association=other_association):
        foreign_membership = services.open_membership(foreign, users["outsider"])
    for target in (colleague_membership, foreign_membership):
        response = coordinator_client.post(url("member_record_payment", association, pk=claire.pk),
                                           payment_data(target))
        assert response.status_code == 400
        assert "Sélectionnez un choix valide" in response.content.decode()
    assert payments(association) == []
    with scope(association=other_association):
        assert not Payment.objects.filter(association=other_association).exists()


def test_payment_on_a_cancelled_membership_is_refused(coordinator_client, association, coordinator, claire,
                                                      membership):
    with scope(association=association):
        services.set_membership_status(membership, coordinator, MembershipStatus.CANCELLED)
    response = coordinator_client.post(url("member_record_payment", association, pk=claire.pk),
                                       payment_data(membership))
    assert response.status_code == 400 and payments(association) == []


# --- Membership status, departure, attestation ---------------------------------------------------


def test_exempt_and_cancel_a_membership(coordinator_client, association, claire, membership):
    response = coordinator_client.post(url("membership_set_status", association, pk=membership.pk),
                                       {"status": "exempt"}, follow=True)
    assert f"Adhésion {membership.period_label} exonérée." in response.content.decode()
    membership = refreshed(association, membership)
    assert membership.status == MembershipStatus.EXEMPT and membership.number
    coordinator_client.post(url("membership_set_status", association, pk=membership.pk), {"status": "cancelled"})
    assert refreshed(association, membership).status == MembershipStatus.CANCELLED
    bad = coordinator_client.post(url("membership_set_status", association, pk=membership.pk), {"status": "paid"},
                                  follow=True)
    assert "Choisissez « exonérer » ou « annuler »." in bad.content.decode()
    assert refreshed(association, membership).status == MembershipStatus.CANCELLED


def test_departure_and_reinstatement(coordinator_client, association, claire):
    page = url("member_departure", association, pk=claire.pk)
    response = coordinator_client.post(page, {"action": "resigned"}, follow=True)
    assert "Démission enregistrée." in response.content.decode()
    claire = refreshed(association, claire)
    assert claire.status == MemberStatus.RESIGNED and claire.left_on == timezone.localdate()
    coordinator_client.post(page, {"action": "struck_off"})
    assert refreshed(association, claire).status == MemberStatus.STRUCK_OFF
    reinstated = coordinator_client.post(page, {"action": "reinstate"}, follow=True)
    assert "est réintégré·e" in reinstated.content.decode()
    claire = refreshed(association, claire)
    assert claire.status not in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF) and claire.left_on is None
    unknown = coordinator_client.post(page, {"action": "exploser"}, follow=True)
    assert "Action inconnue." in unknown.content.decode()


def test_attestation_download(client, association, users, membership):
    login(client, users, Role.VIEWER)
    download = url("membership_attestation", association, pk=membership.pk)
    assert client.get(download).status_code == 404  # no file yet
    with scope(association=association):
        membership.attestation.save("attestation-test.pdf", ContentFile(PDF), save=True)
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    detail = client.get(url("member_detail", association, pk=membership.member_id)).content.decode()
    assert download in detail


def test_anonymised_member_is_read_only(coordinator_client, association, coordinator, claire, membership):
    with scope(association=association):
        services.erase_member(claire, coordinator)
    html = coordinator_client.get(url("member_detail", association, pk=claire.pk)).content.decode()
    assert "Adhérent anonymisé" in html and "Claire" not in html
    assert url("member_edit", association, pk=claire.pk) not in html
    edit = coordinator_client.get(url("member_edit", association, pk=claire.pk))
    assert edit.status_code == 302
    response = coordinator_client.post(url("member_record_payment", association, pk=claire.pk),
                                       payment_data(membership))
    assert response.status_code == 302 and payments(association) == []


# --- Bulk actions ------------------------------------------------------------------------------------


@pytest.fixture
def three(association, other_association, claire):
    """Claire (tariff 30 €), a structure (100 €) and a member of another association."""
    set_tariffs(other_association)
    msp = make_member(association, kind="structure", first_name="", last_name="", structure_name="MSP du Lac",
                      structure_type="msp", email="")
    foreign = make_member(other_association, first_name="Ailleurs", last_name="Bernard", email="b@exemple.fr")
    return claire, msp, foreign


def bulk(client, association, ids, **data):
    return client.post(url("member_bulk", association), {"ids": [str(i) for i in ids], **data}, follow=True)


def test_bulk_payment_by_the_assistant_waits_for_validation(client, association, other_association, users, three):
    claire, msp, foreign = three
    login(client, users, Role.ASSISTANT)
    response = bulk(client, association, [claire.pk, msp.pk, foreign.pk], action="payment", method="cheque")
    html = response.content.decode()
    assert "2 paiement(s) enregistré(s)" in html and "130,00\u00a0€" in html
    assert "en attente de validation par la coordination" in html
    assert "1 adhérent(s) sélectionné(s) introuvable(s) : ignoré(s)." in html
    recorded = payments(association)
    assert sorted(p.amount for p in recorded) == [Decimal("30.00"), Decimal("100.00")]
    assert all(p.validated_at is None for p in recorded)
    with scope(association=other_association):
        assert not Membership.objects.filter(association=other_association).exists()
    # Running it again does not record the same balance twice (payments wait for validation).
    again = bulk(client, association, [claire.pk, msp.pk], action="payment", method="cheque")
    assert "0 paiement(s) enregistré(s)" in again.content.decode()
    assert len(payments(association)) == 2


def test_bulk_payment_by_the_coordinator_is_validated(coordinator_client, association, coordinator, three):
    claire, msp, _foreign = three
    with scope(association=association):
        open_ = services.open_membership(claire, coordinator)
        services.record_payment(open_, coordinator, amount=Decimal("10"), method="cash")
    response = bulk(coordinator_client, association, [claire.pk, msp.pk], action="payment", method="transfer")
    assert "2 paiement(s) enregistré(s)" in response.content.decode()
    with scope(association=association):
        statuses = {m.member_id: (m.status, m.amount_paid) for m in Membership.objects.filter(association=association)}
    assert statuses == {claire.pk: (MembershipStatus.PAID, Decimal("30.00")),
                        msp.pk: (MembershipStatus.PAID, Decimal("100.00"))}
    assert sorted(p.amount for p in payments(association)) == [Decimal("10.00"), Decimal("20.00"), Decimal("100.00")]


def test_bulk_payment_is_all_or_nothing(coordinator_client, association, three):
    claire, msp, _foreign = three
    with scope(association=association):
        Tariff.objects.filter(association=association, category="structure").delete()
    response = bulk(coordinator_client, association, [claire.pk, msp.pk], action="payment", method="transfer")
    html = response.content.decode()
    assert "Aucune modification n&#x27;a été faite. MSP du Lac : Aucun tarif" in html
    with scope(association=association):
        assert not Membership.objects.filter(association=association).exists()
    assert payments(association) == []


def test_bulk_change_of_college(coordinator_client, association, other_association, three):
    claire, msp, foreign = three
    with scope(association=association):
        college = College.objects.create(association=association, name="Usagers")
    with scope(association=other_association):
        foreign_college = College.objects.create(association=other_association, name="Collège B")
    refused = bulk(coordinator_client, association, [claire.pk], action="college", college=foreign_college.pk)
    assert "Action non effectuée." in refused.content.decode()
    assert refreshed(association, claire).college is None
    response = bulk(coordinator_client, association, [claire.pk, msp.pk, foreign.pk], action="college",
                    college=college.pk)
    assert "2 adhérent(s) passé(s) dans le collège « Usagers »." in response.content.decode()
    assert refreshed(association, claire).college == college and refreshed(association, msp).college == college
    with scope(association=other_association):
        foreign.refresh_from_db()
        assert foreign.college is None
    with scope(association=association):
        assert AuditLog.objects.filter(action="member.update").count() == 2


def test_bulk_renewal_links(coordinator_client, association, three, django_capture_on_commit_callbacks):
    claire, msp, foreign = three
    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(coordinator_client, association, [claire.pk, msp.pk, foreign.pk], action="renewal")
    html = response.content.decode()
    assert "1 e-mail(s) envoyé(s), 1 sans adresse valide." in html
    assert [message.to for message in mail.outbox] == [["claire@exemple.fr"]]


def test_bulk_needs_a_selection_and_a_valid_action(coordinator_client, association, claire):
    nothing = bulk(coordinator_client, association, [], action="renewal")
    assert "Sélectionnez au moins un adhérent dans la liste." in nothing.content.decode()
    no_method = bulk(coordinator_client, association, [claire.pk], action="payment")
    assert "Choisissez le mode de paiement." in no_method.content.decode()
    unknown = bulk(coordinator_client, association, [claire.pk], action="supprimer")
    assert "Action non effectuée." in unknown.content.decode()
    assert payments(association) == []


def test_bulk_redirects_back_to_the_filtered_list(coordinator_client, association, claire):
    back = f"{url('member_list', association)}?city=Tours"
    response = coordinator_client.post(url("member_bulk", association),
                                       {"ids": [claire.pk], "action": "renewal", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    elsewhere = coordinator_client.post(url("member_bulk", association),
                                        {"ids": [claire.pk], "action": "renewal", "next": "https://evil.example/"})
    assert elsewhere["Location"] == url("member_list", association)


def test_members_with_a_login_have_no_access(client, association, users, claire):
    with scope(association=association):
        Member.objects.filter(pk=claire.pk).update(user=users["member"])
    login(client, users, "member")
    assert client.get(url("member_detail", association, pk=claire.pk)).status_code == 403


def test_bulk_with_only_ids_of_another_association_does_nothing(coordinator_client, association, three):
    foreign = three[2]
    response = bulk(coordinator_client, association, [foreign.pk], action="renewal")
    assert "Aucun des adhérents sélectionnés" in response.content.decode()
    with scope(association=association):
        assert not AuditLog.objects.filter(action="member.renewal_links").exists()
