"""``manage.py seed_demo``: reproducible, consistent demo members, memberships and payments."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from associations.membership import services
from associations.membership.demo import PROFESSION_SHARES, VAL_DE_LOIRE_SUD, iban_ok
from associations.models import (
    ApplicationStatus,
    Association,
    AuditLog,
    College,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    Payment,
    StructureType,
    Tariff,
    User,
    UserRole,
)
from associations.validators import luhn_ok

pytestmark = pytest.mark.django_db

SETTLED = (MembershipStatus.PAID, MembershipStatus.EXEMPT)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def per_association_counts() -> dict[str, tuple[int, ...]]:
    with scopes_disabled():
        return {
            association.slug: (
                Member.objects.filter(association=association).count(),
                Membership.objects.filter(association=association).count(),
                Payment.objects.filter(association=association).count(),
                AuditLog.objects.filter(association=association).count(),
                Tariff.objects.filter(association=association).count(),
                College.objects.filter(association=association).count(),
            )
            for association in Association.objects.all()
        }


@pytest.fixture
def big():
    seed()
    return Association.objects.get(slug="val-de-loire-sud")


def test_second_run_changes_nothing_and_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first_output = seed()
    first = per_association_counts()
    with scopes_disabled():
        audit_ids = set(AuditLog.objects.values_list("id", flat=True))
        statuses = dict(Member.objects.values_list("id", "status"))

    second_output = seed()

    assert per_association_counts() == first
    with scopes_disabled():
        assert set(AuditLog.objects.values_list("id", flat=True)) == audit_ids
        assert dict(Member.objects.values_list("id", "status")) == statuses
        # One member.import row per association records the generation.
        imports = AuditLog.objects.filter(action="member.import")
        assert sorted(imports.values_list("association__slug", flat=True)) == ["plateau-des-sources",
                                                                               "val-de-loire-sud"]
        assert all(row.changes["source"] == "seed_demo" for row in imports)
        assert Membership.objects.exclude(attestation="").count() == 0  # attestations are made on demand
    assert callbacks == []  # no attestation job, no e-mail queued
    assert mail.outbox == []
    assert first["val-de-loire-sud"][0] == 600
    assert 35 <= first["plateau-des-sources"][0] <= 45
    # One summary line per association, the same on both runs.
    for output in (first_output, second_output):
        assert "CPTS Val de Loire Sud : 600 adhérents" in output
        assert "CPTS du Plateau des Sources : " in output
    assert first_output.splitlines()[-2:] == second_output.splitlines()[-2:]


def test_same_members_when_generated_again():
    """A fixed random seed: generating again (same day) gives the same people."""
    seed()
    association = Association.objects.get(slug="val-de-loire-sud")

    def fingerprint():
        with scope(association=association):
            return list(Member.objects.filter(association=association).order_by("pk").values_list(
                "last_name", "first_name", "structure_name", "rpps", "email", "profession__code", "status"))

    before = fingerprint()
    with scope(association=association):
        Member.objects.filter(association=association).delete()  # memberships and payments cascade
    seed()
    assert fingerprint() == before


def test_configuration_of_the_t3_association(big):
    assert big.aci_size == "T3"
    assert big.iban.startswith("FR76") and len(big.iban) == 27 and iban_ok(big.iban)
    assert not iban_ok(big.iban[:-1] + str((int(big.iban[-1]) + 1) % 10))  # the check really checks
    assert re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", big.bic)
    assert big.cheque_payee == "CPTS Val de Loire Sud"
    big.full_clean()
    with scope(association=big):
        tariffs = dict(Tariff.objects.filter(association=big).values_list("category", "amount"))
        assert tariffs == {"person": Decimal("30.00"), "structure": Decimal("100.00"), "student": Decimal("0.00")}
        assert list(College.objects.filter(association=big).values_list("name", flat=True)) == [
            "PS libéraux", "Structures d'exercice coordonné", "Établissements et partenaires", "Usagers"]
        bureau = UserRole.objects.get(association=big, user__email="bureau@demo.cpts.fr")
        assert bureau.is_treasurer
        assert UserRole.objects.filter(association=big, is_treasurer=True).count() == 1


def test_members_look_real_and_are_valid(big):
    with scope(association=big):
        members = list(Member.objects.filter(association=big).select_related("profession"))
        assert 550 <= len(members) <= 650
        for member in members:
            member.full_clean()  # formats, choices, FINESS, SIRET, postal and INSEE codes, unique RPPS

        persons = [m for m in members if m.kind == MemberKind.PERSON]
        shares = Counter(m.profession.code for m in persons)
        for code, target in [("medecin-generaliste", 36), ("infirmier", 15), ("pharmacien", 13),
                             ("masseur-kinesitherapeute", 7)]:
            assert abs(100 * shares[code] / len(persons) - target) <= 3, code
        assert set(shares) == {code for code, _share in PROFESSION_SHARES}
        specialists = [m for m in persons if m.profession.code == "medecin-specialiste"]
        assert specialists and all(m.specialty for m in specialists)

        rpps = [m.rpps for m in members if m.rpps]
        assert len(rpps) > 0.8 * len(persons)
        assert len(set(rpps)) == len(rpps)
        assert all(len(value) == 11 and value.isdigit() and luhn_ok(value) for value in rpps)
        assert all(m.rpps_warning is None for m in members)

        known = {(c.name, c.postal_code, c.insee) for c in VAL_DE_LOIRE_SUD.communes}
        assert {(m.city, m.postal_code, m.insee_code) for m in members} <= known
        assert len({m.city for m in members}) >= 6

        emails = [m.email for m in persons if m.email]
        assert sum(bool(re.fullmatch(r"[a-z-]+\.[a-z-]+\d*@exemple-sante\.fr", e)) for e in emails) > 0.9 * len(emails)
        duplicated = [e for e, n in Counter(emails).items() if n > 1]
        assert 1 <= len(duplicated) <= 10
        flagged = next(m for m in persons if m.email == duplicated[0])
        assert services.probable_duplicates(flagged)  # the duplicate flag has something to show
        assert all(re.fullmatch(r"0[67]( \d\d){4}", m.phone) for m in persons)
        assert {m.practice_mode for m in persons} >= {"liberal", "salaried", "mixed"}
        assert sum(1 for m in persons if m.practice_structure_id) >= 20

        structures = [m for m in members if m.kind == MemberKind.STRUCTURE]
        assert {m.structure_type for m in structures} == set(StructureType.values)
        assert all(m.siret for m in structures)
        assert all(m.finess.startswith("37") for m in structures if m.finess)
        assert all(m.practice_structure.kind == MemberKind.STRUCTURE for m in persons if m.practice_structure_id)


def test_memberships_and_payments_are_what_the_services_would_have_written(big):
    today = timezone.localdate()
    current, previous = services.current_period(big, today), services.previous_period(big, today)
    with scope(association=big):
        memberships = list(Membership.objects.filter(association=big).select_related("member")
                           .prefetch_related("payments"))
        assert {m.period_label for m in memberships} == {previous.label, current.label}
        numbers = [m.number for m in memberships if m.number]
        assert len(set(numbers)) == len(numbers)
        for m in memberships:
            validated = [p for p in m.payments.all() if p.validated_at]
            assert m.amount_paid == sum((p.amount for p in validated), Decimal("0.00"))
            assert all(p.paid_on <= today and p.validated_at <= timezone.now() for p in m.payments.all())
            assert m.amount_due == services.tariff_for(m.member)
            if m.status == MembershipStatus.PAID:
                assert m.amount_paid >= m.amount_due > 0
                assert m.paid_on == max(p.paid_on for p in validated)
                assert m.paid_on <= today
            elif m.status == MembershipStatus.EXEMPT:
                assert m.amount_due == 0 and m.member.is_student
            else:
                assert m.amount_paid < m.amount_due and not m.paid_on
            if m.is_settled:
                assert re.fullmatch(rf"{big.pk}-{m.start_date.year}-\d{{5}}", m.number)
            else:
                assert m.number == ""
            if m.status == MembershipStatus.PENDING:
                assert m.chosen_method in ("transfer", "cheque") and m.documents_accepted_at

        last_year_payers = {m.member_id for m in memberships
                            if m.start_date == previous.start and m.status == MembershipStatus.PAID}
        renewed = {m.member_id for m in memberships if m.start_date == current.start and m.is_settled}
        members = Member.objects.filter(association=big)
        assert 0.80 <= len(last_year_payers) / members.count() <= 0.90
        assert 0.60 <= len(last_year_payers & renewed) / len(last_year_payers) <= 0.80
        pending = [m for m in memberships if m.status == MembershipStatus.PENDING]
        assert len(pending) >= 5
        assert any(m.status == MembershipStatus.DUE and m.start_date == current.start for m in memberships)
        applications = members.filter(application_status=ApplicationStatus.PENDING)
        assert applications.exists()
        assert all(m.memberships.get().status == MembershipStatus.PENDING for m in applications)
        counts = Counter(members.values_list("status", flat=True))
        assert counts[MemberStatus.RESIGNED] >= 1 and counts[MemberStatus.STRUCK_OFF] >= 1
        assert counts[MemberStatus.UP_TO_DATE] == len(renewed)
        # Member statuses agree with the services' rule (refresh_status changes nothing).
        for member in members:
            before = member.status
            assert services.refresh_status(member, today) == before, member.pk


def test_demo_health_professional_account_is_an_up_to_date_member(big):
    user = User.objects.get(email="ps@demo.cpts.fr")
    with scope(association=big):
        member = Member.objects.get(association=big, user=user)
        assert member.email == user.email
        assert member.status == MemberStatus.UP_TO_DATE
        assert member.profession.code == "medecin-generaliste"
    small = Association.objects.get(slug="plateau-des-sources")
    with scope(association=small):
        assert not Member.objects.filter(association=small, user=user).exists()
        assert Member.objects.filter(association=small, status=MemberStatus.UP_TO_DATE).exists()
