"""Roles management, the association settings form, the audit log page and query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from associations import audit
from associations.membership import services
from associations.models import AuditLog, Role, UserRole
from tests.factories import UserFactory, grant, make_invitation, make_member, set_tariffs
from tests.tenancy.matrix_base import PNG


@pytest.mark.django_db
def test_change_and_remove_role_are_audited(coordinator_client, users, association):
    with scope(association=association):
        viewer_role = UserRole.objects.get(user=users[Role.VIEWER])
    coordinator_client.post(reverse("role_change", args=[association.slug, viewer_role.pk]), {"role": "assistant"})
    coordinator_client.post(reverse("role_remove", args=[association.slug, viewer_role.pk]))
    with scope(association=association):
        assert not UserRole.objects.filter(pk=viewer_role.pk).exists()
        entries = list(AuditLog.objects.order_by("id").values_list("action", "changes", "actor"))
    assert entries == [
        ("role.change", {"role": ["viewer", "assistant"]}, users[Role.COORDINATOR].pk),
        ("role.remove", {"user": users[Role.VIEWER].email, "role": "assistant"}, users[Role.COORDINATOR].pk),
    ]
    journal = coordinator_client.get(reverse("audit_log", args=[association.slug])).content.decode()
    assert "Rôle modifié" in journal and "Rôle retiré" in journal
    # The removed person no longer gets in: same 404 as any outsider.
    coordinator_client.force_login(users[Role.VIEWER])
    assert coordinator_client.get(reverse("dashboard", args=[association.slug])).status_code == 404


@pytest.mark.django_db
def test_last_coordinator_cannot_be_removed_or_demoted(coordinator_client, coordinator, association):
    with scope(association=association):
        mine = UserRole.objects.get(user=coordinator)
    response = coordinator_client.post(reverse("role_remove", args=[association.slug, mine.pk]), follow=True)
    assert "dernier coordinateur" in response.content.decode()
    coordinator_client.post(reverse("role_change", args=[association.slug, mine.pk]), {"role": "viewer"})
    with scope(association=association):
        assert UserRole.objects.get(pk=mine.pk).role == Role.COORDINATOR


@pytest.mark.django_db
def test_unknown_role_is_refused(coordinator_client, users, association):
    with scope(association=association):
        viewer_role = UserRole.objects.get(user=users[Role.VIEWER])
    coordinator_client.post(reverse("role_change", args=[association.slug, viewer_role.pk]), {"role": "admin"})
    with scope(association=association):
        assert UserRole.objects.get(pk=viewer_role.pk).role == Role.VIEWER


@pytest.mark.django_db
def test_settings_form_validates_and_audits(coordinator_client, association):
    url = reverse("association_settings", args=[association.slug])
    base = {"name": "CPTS Alpha", "population": "150000", "contact_email": "c@alpha.example.org",
            "mail_rate_per_minute": "600"}
    bad = coordinator_client.post(url, {**base, "siret": "12345678901234", "finess": "XX1234567"})
    assert bad.status_code == 400
    assert "SIRET" in bad.context["form"].errors["siret"][0]
    assert "FINESS" in bad.context["form"].errors["finess"][0]
    association.refresh_from_db()
    assert association.population == 120_000  # nothing written
    good = coordinator_client.post(url, {**base, "siret": "88412345600011", "finess": "2A0012345",
                                         "logo": SimpleUploadedFile("logo.png", PNG, content_type="image/png")})
    assert good.status_code == 302, good.context["form"].errors
    association.refresh_from_db()
    assert association.population == 150_000 and association.aci_size == "T3"
    assert association.logo.name.startswith(f"associations/{association.pk}/logo/")
    with scope(association=association):
        entry = AuditLog.objects.get(action="association.update")
    assert entry.changes["population"] == ["120000", "150000"]
    logo = coordinator_client.get(reverse("association_logo", args=[association.slug]))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == PNG


@pytest.mark.django_db
def test_no_logo_gives_404(coordinator_client, association):
    assert coordinator_client.get(reverse("association_logo", args=[association.slug])).status_code == 404


@pytest.mark.parametrize("population,size", [(0, "T1"), (39_999, "T1"), (40_000, "T2"), (79_999, "T2"),
                                             (80_000, "T3"), (175_000, "T3"), (175_001, "T4")])
def test_aci_size_from_population(population, size):
    from associations.models import aci_size_for

    assert aci_size_for(population) == size


def _audit_rows(association, actor, n, action="test.action"):
    with scope(association=association):
        for i in range(n):
            audit.record(association, actor, action, target_label=f"objet {i}")


@pytest.mark.django_db
def test_audit_page_filters_by_actor_action_and_date(coordinator_client, users, association):
    _audit_rows(association, users[Role.COORDINATOR], 3, "member.update")
    _audit_rows(association, users[Role.ASSISTANT], 2, "member.create")
    url = reverse("audit_log", args=[association.slug])
    assert len(coordinator_client.get(url).context["table"].rows) == 5
    by_actor = coordinator_client.get(url, {"actor": users[Role.ASSISTANT].pk}).context["table"]
    assert len(by_actor.rows) == 2
    by_action = coordinator_client.get(url, {"action": "member.update"}).context["table"]
    assert len(by_action.rows) == 3
    future = coordinator_client.get(url, {"date_from": "2099-01-01"}).context["table"]
    assert len(future.rows) == 0
    csv = coordinator_client.get(url, {"_export": "csv", "action": "member.create"})
    assert csv.status_code == 200 and csv.content.decode().count("Adhérent créé") == 2


@pytest.mark.django_db
def test_audit_page_refuses_bad_date_with_message(coordinator_client, association):
    response = coordinator_client.get(reverse("audit_log", args=[association.slug]), {"date_from": "31/02/2026"})
    assert response.status_code == 200
    assert response.context["filter"].form.errors["date_from"]


@pytest.mark.django_db
@pytest.mark.parametrize("name,budget", [("dashboard", 16), ("team", 12), ("audit_log", 12)])
def test_pages_run_a_constant_number_of_queries(client, coordinator, association, name, budget,
                                                django_assert_max_num_queries):
    """Query counts with 1 row and with 41 rows of everything must be equal."""
    client.force_login(coordinator)
    url = reverse(name, args=[association.slug])
    make_invitation(association, email="premiere@example.org", invited_by=coordinator)
    _audit_rows(association, coordinator, 1)
    set_tariffs(association)

    def add_member(i):
        member = make_member(association, first_name=f"P{i}", email=f"ps{i}@example.org")
        with scope(association=association):
            services.open_membership(member, coordinator)

    add_member(0)

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = count_queries()
    for i in range(40):
        user = UserFactory(email=f"equipe{i}@example.org")
        grant(user, association, Role.VIEWER)
        make_invitation(association, email=f"invite{i}@example.org", invited_by=coordinator)
        add_member(i + 1)
    _audit_rows(association, coordinator, 40)
    assert count_queries() == small
    # And the page stays within a small fixed budget (session, user, association, role, page queries).
    with django_assert_max_num_queries(budget):
        client.get(url)
