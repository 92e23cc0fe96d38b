"""E-mail subjects and plain-text bodies are not HTML: an association named with "&" or quotes keeps them."""

from types import SimpleNamespace

import pytest

from associations.mail import render_email

ASSOCIATION = SimpleNamespace(name="CPTS Loches & Montrésor « Sud »", sender_name="CPTS", slug="x", pk=1, logo=None,
                              contact_email="", siret="", address="", postal_code="", city="")


@pytest.mark.parametrize("name, extra", [
    ("attestation", {"membership": SimpleNamespace(period_label="2026", number="A-1")}),
    ("renewal_link", {}),
    ("invitation", {"max_age_days": 7, "url": "http://x", "invitation": SimpleNamespace(
        email="a@b.fr", get_role_display=lambda: "Lecture seule", expires_at=None)}),
])
def test_subject_keeps_the_association_name_as_typed(name, extra):
    subject, _text, _html = render_email(name, {"association": ASSOCIATION, **extra})
    assert "CPTS Loches & Montrésor « Sud »" in subject
    assert "&amp;" not in subject
