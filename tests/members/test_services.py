"""Status and payment rules of memberships, at service level."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django_scopes import scope

from associations.membership import services
from associations.models import (
    ApplicationStatus,
    AuditLog,
    MembershipStatus,
    MemberStatus,
    PaymentMethod,
)
from associations.services import ServiceError
from tests.factories import make_member, set_tariffs

TODAY = date(2026, 3, 10)


@pytest.fixture
def setup(association, coordinator):
    set_tariffs(association)
    member = make_member(association, email="claire@example.org", rpps="10003456789")
    with scope(association=association):
        yield association, coordinator, member


def test_civil_and_rolling_periods(association):
    assert services.period_starting(association, TODAY) == services.Period("2026", date(2026, 1, 1),
                                                                           date(2026, 12, 31))
    association.membership_period = "rolling"
    period = services.period_starting(association, date(2026, 1, 31))
    assert (period.start, period.end) == (date(2026, 1, 31), date(2027, 1, 30))
    assert services.previous_period(association, TODAY).start == date(2025, 3, 10)


@pytest.mark.django_db
def test_new_member_is_prospect_then_due_then_paid(setup, django_capture_on_commit_callbacks):
    association, coordinator, member = setup
    assert member.status == MemberStatus.PROSPECT
    membership = services.open_membership(member, coordinator, services.period_starting(association, TODAY))
    assert membership.amount_due == Decimal("30.00") and membership.status == MembershipStatus.DUE
    member.refresh_from_db()
    assert member.status == MemberStatus.PROSPECT  # not paid yet: not a member so far
    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(membership, coordinator, amount=Decimal("10.00"), method=PaymentMethod.CHEQUE,
                                paid_on=date(2026, 3, 1))
    membership.refresh_from_db()
    assert (membership.status, membership.amount_paid, membership.balance) == (
        MembershipStatus.DUE, Decimal("10.00"), Decimal("20.00"))
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(membership, coordinator, amount=Decimal("20.00"), method=PaymentMethod.TRANSFER,
                                paid_on=date(2026, 3, 12))
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAID and membership.paid_on == date(2026, 3, 12)
    assert membership.number == f"{association.pk}-2026-00001"
    member.refresh_from_db()
    # Status is derived against today's date: a 2026 membership makes the member up to date in 2026.
    assert services.refresh_status(member, TODAY) == MemberStatus.UP_TO_DATE
    # A year later the 2026 cotisation no longer covers today: to renew.
    assert services.refresh_status(member, date(2027, 2, 1)) == MemberStatus.TO_RENEW
    # The attestation PDF was generated, stored under the association and e-mailed once.
    assert membership.attestation.name.startswith(f"associations/{association.pk}/attestations/")
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][2] == "application/pdf"
    actions = list(AuditLog.objects.values_list("action", flat=True))
    assert actions.count("payment.record") == 2 and "membership.create" in actions


@pytest.mark.django_db
def test_unvalidated_payment_does_not_count_until_validated(setup, django_capture_on_commit_callbacks):
    association, coordinator, member = setup
    membership = services.open_membership(member, coordinator)
    payment = services.record_payment(membership, coordinator, amount=Decimal("30"), method="cheque", validate=False)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.DUE and membership.amount_paid == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.validate_payment(payment, coordinator)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAID


@pytest.mark.django_db
def test_overpayment_and_bad_amounts(setup):
    association, coordinator, member = setup
    membership = services.open_membership(member, coordinator)
    with pytest.raises(ServiceError):
        services.record_payment(membership, coordinator, amount=Decimal("0"), method="cheque")
    with pytest.raises(ServiceError):
        services.record_payment(membership, coordinator, amount=Decimal("5"), method="bitcoin")
    services.record_payment(membership, coordinator, amount=Decimal("50"), method="cash")
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAID and membership.balance == 0


@pytest.mark.django_db
def test_one_membership_per_member_per_period(setup):
    association, coordinator, member = setup
    first = services.open_membership(member, coordinator)
    assert services.open_membership(member, coordinator) == first
    assert member.memberships.count() == 1


@pytest.mark.django_db
def test_free_tariff_is_exempt_and_cancelled_gets_no_payment(setup, django_capture_on_commit_callbacks):
    association, coordinator, member = setup
    student = make_member(association, first_name="Inès", last_name="Roy", is_student=True)
    with django_capture_on_commit_callbacks(execute=True):
        free = services.open_membership(student, coordinator)
    assert free.status == MembershipStatus.EXEMPT and free.number
    membership = services.open_membership(member, coordinator)
    services.set_membership_status(membership, coordinator, MembershipStatus.CANCELLED)
    with pytest.raises(ServiceError):
        services.record_payment(membership, coordinator, amount=Decimal("30"), method="cheque")


@pytest.mark.django_db
def test_missing_tariff_is_a_clear_error(association, coordinator):
    member = make_member(association)
    with scope(association=association), pytest.raises(ServiceError, match="Aucun tarif"):
        services.open_membership(member, coordinator)


@pytest.mark.django_db
def test_departure_is_kept_whatever_the_memberships(setup):
    association, coordinator, member = setup
    services.set_departure(member, coordinator, MemberStatus.RESIGNED)
    services.open_membership(member, coordinator)
    member.refresh_from_db()
    assert member.status == MemberStatus.RESIGNED
    with pytest.raises(ServiceError):
        services.declare_renewal(member, method="transfer", data={}, documents_accepted=True)
    services.reinstate(member, coordinator)
    member.refresh_from_db()
    assert member.status == MemberStatus.PROSPECT


@pytest.mark.django_db
def test_online_renewal_then_validation(setup, django_capture_on_commit_callbacks):
    association, coordinator, member = setup
    with pytest.raises(ServiceError):
        services.declare_renewal(member, method="transfer", data={}, documents_accepted=False)
    membership = services.declare_renewal(member, method="transfer", data={"phone": "06 12 34 56 78"},
                                          documents_accepted=True)
    assert membership.status == MembershipStatus.PENDING and membership.chosen_method == "transfer"
    member.refresh_from_db()
    assert member.phone == "06 12 34 56 78"
    with django_capture_on_commit_callbacks(execute=True):
        services.validate_pending_membership(membership, coordinator)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAID
    assert membership.payments.get().reference == membership.payment_reference
    assert len(mail.outbox) == 1
    # Renewing again once paid for the current period opens the next one.
    nxt = services.declare_renewal(member, method="cheque", data={}, documents_accepted=True)
    assert nxt.start_date == date(membership.end_date.year + 1, 1, 1)
    assert nxt.status == MembershipStatus.PENDING


@pytest.mark.django_db
def test_rpps_unique_and_luhn_only_warns(setup):
    association, coordinator, member = setup
    with pytest.raises(ValidationError):
        make_member(association, first_name="Autre", rpps="10003456789")
    other = make_member(association, first_name="Paul", rpps="10003456788")
    assert other.rpps_warning is not None  # saved anyway, with a visible warning
    with pytest.raises(ValidationError):
        make_member(association, first_name="X", rpps="123")


@pytest.mark.django_db
def test_same_email_is_flagged_as_probable_duplicate(setup):
    association, coordinator, member = setup
    twin = make_member(association, first_name="Claire", last_name="Dupont-Martin", email="CLAIRE@example.org")
    assert services.probable_duplicates(twin) == [member]


@pytest.mark.django_db
def test_application_accept_and_refuse(association, coordinator):
    set_tariffs(association)
    with scope(association=association):
        data = {"first_name": "Jean", "last_name": "Petit", "email": "jean@example.org"}
        applicant = services.apply_for_membership(association, data, method="cheque", documents_accepted=True)
        assert applicant.application_status == ApplicationStatus.PENDING
        assert applicant.memberships.get().status == MembershipStatus.PENDING
        services.decide_application(applicant, coordinator, accept=False)
        assert applicant.memberships.get().status == MembershipStatus.CANCELLED
        with pytest.raises(ServiceError):
            services.decide_application(applicant, coordinator, accept=True)


@pytest.mark.django_db
def test_erase_keeps_money_and_removes_identity(setup):
    association, coordinator, member = setup
    membership = services.open_membership(member, coordinator)
    services.record_payment(membership, coordinator, amount=Decimal("30"), method="cheque", reference="CHQ 123")
    services.erase_member(member, coordinator)
    member.refresh_from_db()
    assert (member.first_name, member.email, member.rpps) == ("", "", "")
    assert member.anonymized_at is not None
    membership.refresh_from_db()
    assert membership.amount_paid == Decimal("30") and membership.payments.get().reference == ""
    exported = services.export_member_data(member)
    assert exported["email"] == "" and exported["memberships"][0]["amount_paid"] == "30.00"


@pytest.mark.django_db
def test_lapsed_members_listed_for_review(setup):
    association, coordinator, member = setup
    old = make_member(association, first_name="Ancien", email="ancien@example.org")
    services.open_membership(old, coordinator, services.period_starting(association, date(2020, 1, 1)))
    services.open_membership(member, coordinator, services.period_starting(association, TODAY))
    assert list(services.lapsed_members(association, TODAY)) == [old]


@pytest.mark.django_db
def test_tenant_parent_from_other_association_is_refused(setup, other_association):
    association, coordinator, member = setup
    theirs = make_member(other_association, kind="structure", structure_name="MSP Ailleurs", first_name="",
                         last_name="", profession=None)
    member.practice_structure_id = theirs.pk
    with pytest.raises(ValidationError, match="autre association"):
        member.save()


@pytest.mark.django_db
def test_daily_refresh_moves_members_to_renew_when_period_ends(setup, other_association):
    from associations.membership.tasks import refresh_member_statuses_everywhere

    association, coordinator, member = setup
    membership = services.open_membership(member, coordinator, services.period_starting(association, TODAY))
    services.record_payment(membership, coordinator, amount=Decimal("30"), method="cheque")
    newcomer = make_member(association, first_name="Nouveau", email="nouveau@example.org")
    services.refresh_status(member, TODAY)
    assert services.refresh_all_statuses(association, TODAY) == {"up_to_date": 0, "to_renew": 0, "prospect": 0}
    assert services.refresh_all_statuses(association, date(2027, 1, 2)) == {
        "up_to_date": 0, "to_renew": 1, "prospect": 0}
    member.refresh_from_db()
    newcomer.refresh_from_db()
    assert (member.status, newcomer.status) == (MemberStatus.TO_RENEW, MemberStatus.PROSPECT)
    # The beat entry point fans out one tenant task per association (eager in tests).
    assert refresh_member_statuses_everywhere.apply().get() == 2


@pytest.mark.django_db
def test_attestation_job_run_again_stores_one_file_and_sends_one_mail(setup, other_association,
                                                                      django_capture_on_commit_callbacks):
    from associations.membership.tasks import send_attestation

    association, coordinator, member = setup
    membership = services.open_membership(member, coordinator, services.period_starting(association, TODAY))
    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(membership, coordinator, amount=Decimal("30.00"), method=PaymentMethod.CHEQUE)
    membership.refresh_from_db()
    stored = membership.attestation.name
    assert len(mail.outbox) == 1
    assert send_attestation.apply(args=[association.pk, membership.pk]).get() == "stored"  # already e-mailed
    assert send_attestation.apply(args=[other_association.pk, membership.pk]).get() == "skipped"  # not theirs
    membership.refresh_from_db()
    assert membership.attestation.name == stored and len(mail.outbox) == 1
