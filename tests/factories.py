"""factory_boy factories. Tenant rows are created inside the association's scope."""

from __future__ import annotations

import factory
from django_scopes import scope

from associations.models import Association, Invitation, Role, User, UserRole

PASSWORD = "mot-de-passe-de-test-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class AssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Association

    name = factory.Sequence(lambda n: f"CPTS numéro {n}")
    slug = factory.Sequence(lambda n: f"cpts-{n}")
    population = 60_000
    contact_email = factory.Sequence(lambda n: f"contact{n}@cpts.example.org")


def grant(user: User, association: Association, role: str = Role.COORDINATOR) -> UserRole:
    with scope(association=association):
        return UserRole.objects.create(association=association, user=user, role=role)


def make_invitation(association: Association, **kwargs) -> Invitation:
    kwargs.setdefault("email", "invitee@example.org")
    kwargs.setdefault("role", Role.ASSISTANT)
    kwargs.setdefault("expires_at", Invitation.default_expiry())
    with scope(association=association):
        return Invitation.objects.create(association=association, **kwargs)


def ensure_professions() -> None:
    """Reference professions come from a data migration; transactional tests flush them: reload."""
    import importlib

    from django.apps import apps

    from associations.models import Profession

    if not Profession.objects.exists():
        importlib.import_module("associations.migrations.0003_professions").load(apps, None)


def make_member(association: Association, **kwargs):
    """A person member (scoped create). Pass kind="structure" and structure_name for a structure."""
    from associations.models import Member, Profession

    ensure_professions()
    kwargs.setdefault("first_name", "Claire")
    kwargs.setdefault("last_name", "Dupont")
    if kwargs.get("kind", "person") == "person":
        kwargs.setdefault("profession", Profession.objects.get(code="medecin-generaliste"))
    with scope(association=association):
        member = Member(association=association, **kwargs)
        member.full_clean()
        member.save()
        return member


def set_tariffs(association: Association, person="30.00", structure="100.00", student="0.00") -> None:
    from decimal import Decimal

    from associations.models import Tariff

    with scope(association=association):
        for category, amount in (("person", person), ("structure", structure), ("student", student)):
            Tariff.objects.update_or_create(association=association, category=category,
                                            defaults={"amount": Decimal(amount)})
