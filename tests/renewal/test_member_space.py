"""The member space (« Mon adhésion »): a professional with a login sees and manages only their own record."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.membership import services
from associations.models import AuditLog, Member, Membership, MembershipStatus, PaymentMethod
from tests.factories import make_member, set_tariffs
from tests.renewal.conftest import IBAN, renewal_data, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(alpha, users):
    """The member linked to the ``member`` user's account, with a paid membership of the current period."""
    member = make_member(alpha, first_name="Paul", last_name="Martin", email=users["member"].email,
                         user=users["member"], phone="06 22 22 22 22", rpps="10000000017", newsletter_consent=True)
    with scope(association=alpha):
        membership = services.open_membership(member, None)
        services.record_payment(membership, None, amount=Decimal("30.00"), method=PaymentMethod.TRANSFER)
    return member


@pytest.fixture
def member_client(client, users, me):
    client.force_login(users["member"])
    return client


@pytest.fixture
def neighbour(alpha):
    """Another member of the same association, with a paid membership."""
    other = make_member(alpha, first_name="Nina", last_name="Voisin", email="nina@example.org", rpps="10000000025",
                        phone="07 77 77 77 77")
    with scope(association=alpha):
        membership = services.open_membership(other, None)
        services.record_payment(membership, None, amount=Decimal("30.00"), method=PaymentMethod.CHEQUE)
    return other, membership


def _url(name, **kwargs):
    return reverse(name, kwargs={"association_slug": "alpha", **kwargs})


def _memberships(member):
    with scope(association=member.association):
        return list(Membership.objects.filter(member=member))


def test_space_shows_status_history_and_the_renew_button(member_client, me, neighbour):
    response = member_client.get(_url("member_space"))
    assert response.status_code == 200
    html = text(response)
    membership = _memberships(me)[0]
    assert "Adhérent à jour" in html and membership.period_label in html and "Réglée" in html
    assert _url("member_attestation", pk=membership.pk) in html
    assert _url("space_renew") in html
    assert "connectez-vous avec un code reçu par e-mail" in html
    assert "Nina" not in html and "07 77 77 77 77" not in html


def test_own_attestation_downloads_and_another_members_is_404(member_client, me, neighbour, other_association):
    own = _memberships(me)[0]
    response = member_client.get(_url("member_attestation", pk=own.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"%PDF")
    # Another member of the same association, and an id of another association: 404 both.
    assert member_client.get(_url("member_attestation", pk=neighbour[1].pk)).status_code == 404
    set_tariffs(other_association)
    stranger = make_member(other_association, email="x@example.org")
    with scope(association=other_association):
        foreign = services.open_membership(stranger, None)
    assert member_client.get(_url("member_attestation", pk=foreign.pk)).status_code == 404


def test_stored_attestation_is_served_and_an_unpaid_one_is_not(member_client, me, django_capture_on_commit_callbacks):
    with scope(association=me.association):
        paid = Membership.objects.get(member=me)
        from associations.membership.tasks import send_attestation

        send_attestation(me.association_id, paid.pk)  # what the job does after the payment
        paid.refresh_from_db()
        assert paid.attestation
        next_period = services.period_starting(me.association, date(paid.start_date.year + 1, 1, 1))
        due = services.open_membership(me, None, next_period)
    response = member_client.get(_url("member_attestation", pk=paid.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    assert member_client.get(_url("member_attestation", pk=due.pk)).status_code == 404  # not settled


def test_space_query_count_does_not_grow_with_the_history(member_client, me):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert member_client.get(_url("member_space")).status_code == 200
        return len(queries)

    one = count()
    with scope(association=me.association):
        for year in (2019, 2020, 2021, 2022):
            period = services.period_starting(me.association, date(year, 1, 1))
            membership = services.open_membership(me, None, period)
            services.record_payment(membership, None, amount=Decimal("30.00"), method=PaymentMethod.CHEQUE)
    assert len(_memberships(me)) == 5
    # session, user, association (middleware), staff role, member-role check (middleware), the member,
    # the memberships, the documents, the association switcher (context processor): 9 whatever the history.
    assert count() == one == 9


def test_export_contains_my_data_only(member_client, me, neighbour):
    response = member_client.get(_url("space_export"), {"format": "json"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["last_name"] == "Martin" and data["phone"] == "06 22 22 22 22"
    assert len(data["memberships"]) == 1 and data["memberships"][0]["payments"][0]["amount"] == "30.00"
    assert "Nina" not in response.content.decode() and "nina@example.org" not in response.content.decode()

    csv_response = member_client.get(_url("space_export"), {"format": "csv"})
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["rubrique", "champ", "valeur"]
    assert ["adhérent", "email", "membre@example.org"] in rows
    assert any(row[1] == "amount_paid" and row[2] == "30.00" for row in rows)
    assert "Voisin" not in csv_response.content.decode()

    assert member_client.get(_url("space_export"), {"format": "xml"}).status_code == 400


def test_newsletter_opt_out_is_audited(member_client, me):
    response = member_client.post(_url("space_newsletter"), {"consent": "0"})
    assert response.status_code == 302 and response["Location"] == _url("member_space")
    with scope(association=me.association):
        me.refresh_from_db()
        entry = AuditLog.objects.get(action="member.newsletter")
    assert me.newsletter_consent is False
    assert entry.actor.email == "membre@example.org" and entry.changes == {"newsletter_consent": ["True", "False"]}
    page = text(member_client.get(_url("member_space")))
    assert "Vous ne recevez pas les lettres d'information" in page


def test_profile_update_is_audited_and_bad_input_writes_nothing(member_client, me):
    data = renewal_data(me, phone="06 99 99 99 99")
    for key in ("accept_statutes", "accept_rules", "accept_privacy", "method"):
        data.pop(key)
    with scope(association=me.association):
        before = AuditLog.objects.count()
    bad = member_client.post(_url("space_profile"), {**data, "postal_code": "ABCDE", "last_name": ""})
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"postal_code", "last_name"}
    with scope(association=me.association):
        me.refresh_from_db()
        assert me.phone == "06 22 22 22 22" and AuditLog.objects.count() == before

    assert member_client.post(_url("space_profile"), data).status_code == 302
    with scope(association=me.association):
        me.refresh_from_db()
        entry = AuditLog.objects.get(action="member.self_update")
    assert me.phone == "06 99 99 99 99"
    assert entry.changes == {"phone": ["06 22 22 22 22", "06 99 99 99 99"]}


def test_renewal_from_the_space_is_made_by_the_logged_in_member(member_client, me, users):
    page = member_client.get(_url("space_renew"))
    assert page.status_code == 200
    # The current period is paid: this renewal is for the next one.
    assert "est déjà réglée" in text(page)
    response = member_client.post(_url("space_renew"), renewal_data(me))
    assert response.status_code == 302 and response["Location"] == _url("space_renew")
    with scope(association=me.association):
        pending = Membership.objects.get(member=me, status=MembershipStatus.PENDING)
        entry = AuditLog.objects.get(action="membership.renew_online")
    assert entry.actor == users["member"]
    space = text(member_client.get(_url("member_space")))
    assert "en attente de validation par la coordination" in space
    assert IBAN in space and pending.payment_reference in space


def test_staff_without_a_member_record_cannot_open_the_space(client, users, me):
    client.force_login(users["coordinator"])
    assert client.get(_url("member_space")).status_code == 403


def test_space_links_the_documents_members_may_open(member_client, documents):
    page = text(member_client.get(_url("member_space")))
    for kind in ("statutes", "rules", "privacy"):
        assert _url("association_document", pk=documents[kind].pk) in page
    response = member_client.get(_url("association_document", pk=documents["privacy"].pk))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-1.4 privacy")
    renew = text(member_client.get(_url("space_renew")))
    assert _url("association_document", pk=documents["rules"].pk) in renew


def test_member_record_of_another_association_does_not_open_this_space(client, users, other_association):
    make_member(other_association, email=users["member"].email, user=users["member"])
    client.force_login(users["member"])
    # Linked in Beta only: Alpha answers 404 like any association the caller has no role in.
    assert client.get(_url("member_space")).status_code == 404
    with scope(association=other_association):
        assert Member.objects.filter(user=users["member"]).count() == 1
