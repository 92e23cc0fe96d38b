import pytest
from django.urls import reverse

from associations.models import Role


@pytest.mark.django_db
def test_dashboard_shows_association_and_counts(coordinator_client, association):
    response = coordinator_client.get(reverse("dashboard", args=[association.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "CPTS Alpha" in body
    assert "Taille 3 (80 000 à 175 000 habitants)" in body
    assert response.context["roles"] == {"total": 3, "coordinators": 1}
    assert response.context["pending_invitations"] == 0


@pytest.mark.django_db
def test_navigation_shows_only_sections_allowed_to_role(client, users, association):
    client.force_login(users[Role.VIEWER])
    body = client.get(reverse("dashboard", args=[association.slug])).content.decode()
    assert reverse("team", args=[association.slug]) not in body
    assert reverse("audit_log", args=[association.slug]) not in body
    client.force_login(users[Role.COORDINATOR])
    body = client.get(reverse("dashboard", args=[association.slug])).content.decode()
    assert reverse("team", args=[association.slug]) in body
    assert reverse("audit_log", args=[association.slug]) in body
