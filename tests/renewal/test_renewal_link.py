"""Online renewal by personal link (/p/<slug>/renouveler/<token>/): no login, one page, nothing written
on a bad link or bad input, the coordinator then validates the declared payment."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations.membership import services
from associations.models import AuditLog, Member, Membership, MembershipStatus, MemberStatus, PaymentMethod, User
from tests.factories import UserFactory, make_member, set_tariffs
from tests.renewal.conftest import IBAN, renewal_data, renewal_path, text

pytestmark = pytest.mark.django_db


def _state(association) -> tuple:
    """Everything a bad request must leave untouched."""
    with scope(association=association):
        return (
            list(Member.objects.filter(association=association).values_list("pk", "phone", "email", "user_id")),
            list(Membership.objects.filter(association=association).values_list("pk", "status")),
            AuditLog.objects.filter(association=association).count(),
        )


def test_prefilled_form_shows_amount_and_documents(client, alpha, member, documents):
    before = _state(alpha)
    response = client.get(renewal_path(member))
    assert response.status_code == 200
    html = text(response)
    assert 'value="06 00 00 00 00"' in html and 'value="claire.dupont@example.org"' in html
    assert 'value="3 rue des Lilas"' in html and 'value="37000"' in html
    # Phone keyboards: a tel input, a numeric postal code.
    assert '<input type="tel" name="phone"' in html and 'inputmode="numeric"' in html
    year = str(timezone.localdate().year)
    assert f"Cotisation {year}" in html and "30,00\u00a0€" in html
    # Each document links to the latest version through the token-protected download.
    for kind in ("rules", "privacy"):
        assert reverse("renewal_document", kwargs={"association_slug": "alpha", "token": response.context["token"],
                                                   "pk": documents[kind].pk}) in html
    assert 'name="accept_statutes"' in html and 'value="transfer"' in html
    # The bank details are configured, the cheque is not: only the transfer is offered.
    assert 'value="cheque"' not in html
    assert _state(alpha) == before  # opening the link writes nothing


def test_full_renewal_then_validation_by_the_coordinator(client, alpha, member, coordinator,
                                                         django_capture_on_commit_callbacks):
    url = renewal_path(member)
    response = client.post(url, renewal_data(member, phone="06 12 34 56 78"))
    assert response.status_code == 302 and response["Location"] == url

    with scope(association=alpha):
        member.refresh_from_db()
        membership = Membership.objects.get(member=member)
        renew_audit = AuditLog.objects.get(action="membership.renew_online")
        self_update = AuditLog.objects.get(action="member.self_update")
    assert member.phone == "06 12 34 56 78"
    assert self_update.changes == {"phone": ["06 00 00 00 00", "06 12 34 56 78"]}  # only what changed
    assert renew_audit.actor is None and renew_audit.changes["method"] == "transfer"
    assert membership.status == MembershipStatus.PENDING
    assert membership.chosen_method == PaymentMethod.TRANSFER
    assert membership.documents_accepted_at is not None
    assert membership.amount_due == Decimal("30.00")

    # The confirmation: period, amount, IBAN and reference, waiting for the coordination.
    page = client.get(url)
    html = text(page)
    assert page.status_code == 200
    assert IBAN in html and membership.payment_reference in html and "30,00\u00a0€" in html
    assert membership.period_label in html
    assert "en attente de validation par la coordination" in html
    assert "Votre demande de renouvellement est enregistrée" in html

    with scope(association=alpha), django_capture_on_commit_callbacks(execute=True):
        services.validate_pending_membership(membership, coordinator)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAID and membership.amount_paid == Decimal("30.00")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["claire.dupont@example.org"]
    assert message.attachments[0][2] == "application/pdf" and message.attachments[0][1].startswith(b"%PDF")


def test_already_pending_shows_the_instructions_instead_of_a_second_request(client, alpha, member):
    url = renewal_path(member)
    client.post(url, renewal_data(member))
    with scope(association=alpha):
        audit_count = AuditLog.objects.count()
    again = client.post(url, renewal_data(member, phone="01 02 03 04 05", method="cheque"))
    assert again.status_code == 200
    assert IBAN in text(again)
    with scope(association=alpha):
        assert Membership.objects.filter(member=member).count() == 1
        assert Membership.objects.get(member=member).chosen_method == PaymentMethod.TRANSFER
        assert AuditLog.objects.count() == audit_count
        member.refresh_from_db()
    assert member.phone == "06 00 00 00 00"


def test_renewing_when_the_current_period_is_paid_renews_the_next_one(client, alpha, member, coordinator):
    with scope(association=alpha):
        current = services.open_membership(member, coordinator)
        services.record_payment(current, coordinator, amount=Decimal("30.00"), method=PaymentMethod.CHEQUE)
    url = renewal_path(member)
    next_year = str(current.start_date.year + 1)
    page = text(client.get(url))
    assert f"Votre adhésion {current.period_label} est déjà réglée" in page
    assert f"période suivante ({next_year})" in page

    assert client.post(url, renewal_data(member)).status_code == 302
    with scope(association=alpha):
        renewed = Membership.objects.get(member=member, status=MembershipStatus.PENDING)
    assert renewed.period_label == next_year and renewed.start_date.year == current.start_date.year + 1


def _expired_token(member, monkeypatch) -> str:
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - (services.RENEWAL_MAX_AGE_DAYS + 1) * 24 * 3600)
    with scope(association=member.association):
        token = services.renewal_token(member)
    monkeypatch.setattr(time, "time", real_time)
    return token


@pytest.mark.parametrize("problem", ["tampered", "expired", "other_association"])
def test_bad_links_show_a_clear_page_and_change_nothing(client, alpha, other_association, member, monkeypatch,
                                                        problem):
    if problem == "tampered":
        good = renewal_path(member).split("/")[-2]
        token = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    elif problem == "expired":
        token = _expired_token(member, monkeypatch)
    else:
        set_tariffs(other_association)
        stranger = make_member(other_association, first_name="Autre", last_name="Cpts", email="autre@example.org")
        with scope(association=other_association):
            token = services.renewal_token(stranger)  # a valid token of Beta, used on Alpha's pages
    url = reverse("renewal", kwargs={"association_slug": "alpha", "token": token})
    before = _state(alpha)

    for response in (client.get(url), client.post(url, renewal_data(member, phone="09 99 99 99 99"))):
        expected = 410 if problem == "expired" else 404
        assert response.status_code == expected
        html = text(response)
        if problem == "expired":
            assert "Ce lien de renouvellement a expiré" in html
        else:
            assert "Ce lien de renouvellement n'est pas valable" in html
        assert "Rien n'a été modifié" in html
        assert "Autre" not in html and "Claire" not in html
    assert _state(alpha) == before


def test_missing_documents_and_bad_input_are_shown_next_to_fields_and_write_nothing(client, alpha, member):
    before = _state(alpha)
    data = renewal_data(member, postal_code="37", email="pas-une-adresse", phone="06 11 11 11 11")
    del data["accept_rules"]
    del data["method"]
    response = client.post(renewal_path(member), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"postal_code", "email", "accept_rules", "method"}
    html = text(response)
    assert 'id="id_postal_code_errors"' in html and "Le code postal comporte 5 chiffres." in html
    assert "Vous devez accepter ce document pour adhérer." in html
    assert "Choisissez un mode de paiement." in html
    assert 'value="06 11 11 11 11"' in html  # what was typed is kept
    assert _state(alpha) == before


def test_a_method_the_association_does_not_offer_is_refused(client, alpha, member):
    before = _state(alpha)
    response = client.post(renewal_path(member), renewal_data(member, method="cash"))
    assert response.status_code == 400
    assert "Choisissez un des modes de paiement proposés." in text(response)
    assert _state(alpha) == before


def test_without_tariff_the_page_says_so_and_nothing_is_written(client, association):
    lonely = make_member(association, email="seule@example.org")
    before = _state(association)
    url = renewal_path(lonely)
    page = client.get(url)
    assert page.status_code == 200
    assert "Le renouvellement en ligne n'est pas encore ouvert" in text(page)
    assert client.post(url, renewal_data(lonely)).status_code == 200
    assert _state(association) == before


def test_a_member_who_left_cannot_renew_online(client, alpha, member, coordinator):
    with scope(association=alpha):
        services.set_departure(member, coordinator, MemberStatus.RESIGNED)
        before = _state(alpha)
    response = client.post(renewal_path(member), renewal_data(member))
    assert "ne peut pas être renouvelée en ligne" in text(response)
    assert _state(alpha) == before


def test_documents_are_served_with_a_valid_token_only(client, alpha, other_association, member, documents):
    path = renewal_path(member)
    token = path.split("/")[-2]
    url = reverse("renewal_document", kwargs={"association_slug": "alpha", "token": token,
                                              "pk": documents["rules"].pk})
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.4 rules")
    assert response["X-Content-Type-Options"] == "nosniff"
    bad = reverse("renewal_document", kwargs={"association_slug": "alpha", "token": token[:-2] + "zz",
                                              "pk": documents["rules"].pk})
    assert client.get(bad).status_code == 404
    # A document of another association is unknown here, even with a valid token.
    from django.core.files.base import ContentFile

    from associations.models import AssociationDocument

    with scope(association=other_association):
        foreign = AssociationDocument(association=other_association, kind="rules")
        foreign.file.save("beta.pdf", ContentFile(b"%PDF beta"), save=True)
    assert client.get(reverse("renewal_document", kwargs={"association_slug": "alpha", "token": token,
                                                          "pk": foreign.pk})).status_code == 404


def test_logged_in_user_with_the_member_email_gets_linked(client, alpha, member):
    user = UserFactory(email="Claire.Dupont@example.org".lower())
    client.force_login(user)
    response = client.get(renewal_path(member))
    assert response.status_code == 200
    assert "Votre compte est désormais relié à votre fiche" in text(response)
    with scope(association=alpha):
        member.refresh_from_db()
        link = AuditLog.objects.get(action="member.link_account")
    assert member.user == user and link.actor == user
    # The account now opens the member space.
    assert client.get(reverse("member_space", args=["alpha"])).status_code == 200


def test_logged_in_user_with_another_email_is_not_linked(client, alpha, member):
    client.force_login(UserFactory(email="quelquun@example.org"))
    assert client.get(renewal_path(member)).status_code == 200
    with scope(association=alpha):
        member.refresh_from_db()
        assert member.user is None
        assert not AuditLog.objects.filter(action="member.link_account").exists()


def test_access_to_the_member_space_creates_a_passwordless_account_once(client, alpha, member):
    url = reverse("renewal_account", kwargs={"association_slug": "alpha", "token": renewal_path(member).split("/")[-2]})
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_request_login_code')}?next=/a/alpha/mon-adhesion/"
    user = User.objects.get(email="claire.dupont@example.org")
    assert not is_password_usable(user.password)
    with scope(association=alpha):
        member.refresh_from_db()
        assert member.user == user
        assert AuditLog.objects.get(action="member.open_account").changes["account_created"] is True
    client.post(url)
    assert User.objects.filter(email="claire.dupont@example.org").count() == 1
    with scope(association=alpha):
        assert AuditLog.objects.filter(action="member.open_account").count() == 1
    assert client.get(url).status_code == 405  # a GET (link preview, robot) creates nothing


def test_renewal_token_expires_after_the_documented_delay(alpha, member, monkeypatch):
    assert timedelta(days=services.RENEWAL_MAX_AGE_DAYS) == timedelta(days=60)
    token = _expired_token(member, monkeypatch)
    with scope(association=alpha):
        assert services.member_from_renewal_token(alpha, token) == (None, "expired")


def test_a_structure_renews_with_its_own_fields(client, alpha):
    msp = make_member(alpha, kind="structure", structure_name="MSP des Tilleuls", contact_person="Dr Roux",
                      email="msp@example.org", profession=None, first_name="", last_name="")
    url = renewal_path(msp)
    page = client.get(url)
    html = text(page)
    assert 'value="MSP des Tilleuls"' in html and 'value="Dr Roux"' in html and "100,00\u00a0€" in html
    assert 'name="first_name"' not in html and 'name="profession"' not in html
    data = {"structure_name": "MSP des Tilleuls", "contact_person": "Mme Roux", "email": "msp@example.org",
            "phone": "", "address": "", "postal_code": "", "city": "", "accept_statutes": "on",
            "accept_rules": "on", "accept_privacy": "on", "method": "transfer"}
    assert client.post(url, data).status_code == 302
    with scope(association=alpha):
        msp.refresh_from_db()
        assert Membership.objects.get(member=msp).amount_due == Decimal("100.00")
    assert msp.contact_person == "Mme Roux"


def test_a_free_cotisation_is_recorded_at_once(client, alpha, django_capture_on_commit_callbacks):
    student = make_member(alpha, first_name="Jules", last_name="Interne", email="jules@example.org", is_student=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(renewal_path(student), renewal_data(student))
    assert response.status_code == 200
    assert "aucune cotisation n'est due" in text(response)
    with scope(association=alpha):
        assert Membership.objects.get(member=student).status == MembershipStatus.EXEMPT
    assert [m.to for m in mail.outbox] == [["jules@example.org"]]
