"""Operator commands: ``create_association`` and the idempotent ``seed_demo``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django_scopes import scope, scopes_disabled

from associations.models import Association, AuditLog, Invitation, Role, UserRole
from associations.validators import validate_siret
from tests.factories import AssociationFactory, UserFactory

User = get_user_model()

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo-cpts-2026"


def counts() -> dict[str, int]:
    with scopes_disabled():
        return {
            "associations": Association.objects.count(),
            "users": User.objects.count(),
            "roles": UserRole.objects.count(),
            "invitations": Invitation.objects.count(),
            "audit": AuditLog.objects.count(),
        }


# --- create_association ----------------------------------------------------------------------


def test_create_association_grants_coordinator_role_to_existing_account():
    user = UserFactory(email="ana.dupont@example.org")
    out = StringIO()

    call_command(
        "create_association", "CPTS des Deux Rives", "--population", "95000",
        "--coordinator", "Ana.Dupont@example.org", stdout=out,
    )

    association = Association.objects.get(slug="cpts-des-deux-rives")
    assert association.name == "CPTS des Deux Rives"
    assert association.population == 95_000
    assert association.aci_size == "T3"
    assert "/a/cpts-des-deux-rives/" in out.getvalue()
    with scope(association=association):
        role = UserRole.objects.get(association=association)
        assert role.user == user
        assert role.role == Role.COORDINATOR
        assert not Invitation.objects.filter(association=association).exists()
        actions = list(AuditLog.objects.filter(association=association).values_list("action", flat=True))
        created = AuditLog.objects.get(association=association, action="association.create")
    assert sorted(actions) == ["association.create", "role.grant"]
    assert created.actor is None
    assert created.target_id == str(association.pk)
    assert created.changes == {"name": "CPTS des Deux Rives", "slug": "cpts-des-deux-rives", "population": 95_000}
    assert mail.outbox == []


def test_create_association_invites_unknown_coordinator_by_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command(
            "create_association", "CPTS du Val", "--slug", "val", "--population", "30000",
            "--coordinator", "Nouvelle.Coordinatrice@Example.org", stdout=StringIO(),
        )

    assert len(callbacks) == 1  # the e-mail is only enqueued once the transaction commits
    association = Association.objects.get(slug="val")
    assert association.aci_size == "T1"
    with scope(association=association):
        invitation = Invitation.objects.get(association=association)
        assert invitation.email == "nouvelle.coordinatrice@example.org"
        assert invitation.role == Role.COORDINATOR
        assert invitation.status == Invitation.Status.PENDING
        assert invitation.sent_at is not None
        assert not UserRole.objects.filter(association=association).exists()
        actions = set(AuditLog.objects.filter(association=association).values_list("action", flat=True))
    assert actions == {"association.create", "invitation.create"}
    assert not User.objects.filter(email__iexact="nouvelle.coordinatrice@example.org").exists()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvelle.coordinatrice@example.org"]
    assert "CPTS du Val" in message.from_email
    assert "http://testserver/invitation/" in message.body


def test_create_association_invitation_link_works(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_association", "CPTS du Val", "--slug", "val",
                     "--coordinator", "coord@example.org", stdout=StringIO())
    link = next(line.strip() for line in mail.outbox[0].body.splitlines() if "/invitation/" in line)
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert "CPTS du Val" in response.content.decode()


@pytest.mark.parametrize("siret", ["12345678901234", "1234"])
def test_create_association_rejects_invalid_siret_and_creates_nothing(siret):
    before = counts()
    with pytest.raises(CommandError) as excinfo:
        call_command("create_association", "CPTS des Deux Rives", "--siret", siret,
                     "--coordinator", "someone@example.org", stdout=StringIO())
    message = str(excinfo.value)
    assert "Association non créée" in message
    assert "SIRET" in message
    assert counts() == before
    assert mail.outbox == []


def test_create_association_rejects_duplicate_slug_and_creates_nothing(django_capture_on_commit_callbacks):
    AssociationFactory(name="CPTS existante", slug="deux-rives")
    before = counts()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CommandError) as excinfo:
        call_command("create_association", "CPTS des Deux Rives", "--slug", "deux-rives",
                     "--coordinator", "someone@example.org", stdout=StringIO())
    assert "slug" in str(excinfo.value)
    assert counts() == before
    assert Association.objects.get(slug="deux-rives").name == "CPTS existante"
    assert mail.outbox == []


def test_create_association_accepts_valid_identifiers():
    call_command("create_association", "CPTS de Tours", "--siret", "88412345600011", "--finess", "370012345",
                 "--contact-email", "contact@cpts-tours.example.org", "--population", "200000", stdout=StringIO())
    association = Association.objects.get(slug="cpts-de-tours")
    assert association.siret == "88412345600011"
    assert association.finess == "370012345"
    assert association.contact_email == "contact@cpts-tours.example.org"
    assert association.aci_size == "T4"


# --- seed_demo -------------------------------------------------------------------------------


def test_seed_demo_is_idempotent_and_consistent(client):
    call_command("seed_demo", stdout=StringIO())
    first = counts()
    with scopes_disabled():
        first_audit_ids = set(AuditLog.objects.values_list("id", flat=True))

    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == first
    with scopes_disabled():
        assert set(AuditLog.objects.values_list("id", flat=True)) == first_audit_ids
    assert DEMO_PASSWORD in out.getvalue()

    assert first["associations"] == 2
    assert first["users"] == 6
    assert first["roles"] == 5
    # association.create each, role.grant per role, member.import each, and for the demo campaigns of
    # Val de Loire Sud: campaign.create twice, campaign.launch, campaign.schedule.
    assert first["audit"] == 2 + 5 + 2 + 4

    big = Association.objects.get(slug="val-de-loire-sud")
    small = Association.objects.get(slug="plateau-des-sources")
    assert 110_000 <= big.population <= 130_000
    assert big.aci_size == "T3"
    assert small.aci_size == "T1"
    for association in (big, small):
        validate_siret(association.siret)  # raises ValidationError when invalid
        association.full_clean()

    coordinator = User.objects.get(email="coordination@demo.cpts.fr")
    assert coordinator.check_password(DEMO_PASSWORD)
    assert client.login(email="coordination@demo.cpts.fr", password=DEMO_PASSWORD)
    with scope(association=big):
        assert UserRole.objects.get(association=big, user=coordinator).role == Role.COORDINATOR

    with scopes_disabled():
        in_both = [
            user for user in User.objects.all()
            if set(UserRole.objects.filter(user=user).values_list("association__slug", flat=True))
            == {big.slug, small.slug}
        ]
        assert len(in_both) == 1
        for association in (big, small):
            assert UserRole.objects.filter(association=association, role=Role.COORDINATOR).count() == 1

    operator = User.objects.get(email="operateur@demo.cpts.fr")
    assert operator.is_superuser
    assert operator.is_staff
    assert User.objects.filter(is_superuser=True).count() == 1


def test_seed_demo_keeps_an_existing_password():
    """Running the seed again must not reset a password changed since the first run."""
    call_command("seed_demo", stdout=StringIO())
    user = User.objects.get(email="coordination@demo.cpts.fr")
    user.set_password("un-autre-mot-de-passe")
    user.save()
    call_command("seed_demo", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password("un-autre-mot-de-passe")


@pytest.mark.django_db
def test_create_association_refuses_invalid_coordinator_email():
    from django.core import mail
    from django.core.management import CommandError, call_command

    from associations.models import Association

    with pytest.raises(CommandError, match="coordinator_email"):
        call_command("create_association", "CPTS X", "--coordinator", "pas-une-adresse")
    assert not Association.objects.filter(slug="cpts-x").exists()
    assert mail.outbox == []
