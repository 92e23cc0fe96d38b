"""Fixtures of the renewal, member space and join tests."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django_scopes import scope

from associations.membership import services
from associations.models import AssociationDocument, Profession
from tests.factories import make_member, set_tariffs

IBAN = "FR7630006000011234567890189"
BIC = "AGRIFRPPXXX"


@pytest.fixture
def alpha(association):
    """The association with tariffs (30 € person, 100 € structure) and its bank details."""
    association.iban = IBAN
    association.bic = BIC
    association.save()
    set_tariffs(association)
    return association


@pytest.fixture
def member(alpha):
    return make_member(alpha, civility="dr", first_name="Claire", last_name="Dupont", email="claire.dupont@example.org",
                       phone="06 00 00 00 00", rpps="10003456789", address="3 rue des Lilas", postal_code="37000",
                       city="Tours", practice_mode="liberal")


@pytest.fixture
def documents(alpha):
    """The latest statutes, règlement intérieur and privacy notice (plus an older statutes version)."""
    created = {}
    with scope(association=alpha):
        for kind in ("statutes", "statutes", "rules", "privacy"):
            document = AssociationDocument(association=alpha, kind=kind)
            document.file.save(f"{kind}.pdf", ContentFile(b"%PDF-1.4 " + kind.encode()), save=True)
            created[kind] = document
    return created


def renewal_path(member) -> str:
    with scope(association=member.association):
        return reverse("renewal", kwargs={"association_slug": member.association.slug,
                                          "token": services.renewal_token(member)})


def renewal_data(member, **overrides) -> dict:
    """What the prefilled form posts back, with the three documents accepted and transfer chosen."""
    data = {
        "civility": member.civility, "first_name": member.first_name, "last_name": member.last_name,
        "profession": member.profession_id or "", "specialty": member.specialty, "practice_mode": member.practice_mode,
        "email": member.email, "phone": member.phone, "address": member.address, "postal_code": member.postal_code,
        "city": member.city, "accept_statutes": "on", "accept_rules": "on", "accept_privacy": "on",
        "method": "transfer",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def profession(code: str = "infirmier") -> Profession:
    return Profession.objects.get(code=code)


def text(response) -> str:
    """The page's HTML with entities decoded (autoescaping turns ' into &#x27;)."""
    import html

    return html.unescape(response.content.decode())
