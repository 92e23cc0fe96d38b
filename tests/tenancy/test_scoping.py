"""Tenant-owned models are scoped, escape hatches are confined, other tenants' ids are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.core import mail
from django.urls import reverse
from django_scopes import ScopeError, scope
from django_scopes.forms import SafeModelChoiceField

from associations.forms import TenantFormMixin
from associations.models import Association, AuditLog, Invitation, Role, UserRole
from associations.tasks import send_invitation_email
from associations.tasks_base import TenantTask
from cpts.celery import app as celery_app
from tests.factories import make_invitation

ROOT = Path(__file__).resolve().parents[2]
APPS = ["associations", "missions", "indicators", "finance", "cpts"]
# DESIGN.md §Tenancy rule 8: the only files allowed to step outside a scope.
ESCAPE_HATCH_FILES = {"associations/middleware.py", "associations/unscoped.py"}
ESCAPE_HATCH = re.compile(r"scopes_disabled|with_scopes_disabled|_base_manager|\.raw\(|\.extra\(")


def tenant_models():
    return [
        model for model in apps.get_models()
        if any(f.name == "association" and f.related_model is Association for f in model._meta.fields)
    ]


def test_there_are_tenant_models():
    assert {UserRole, Invitation, AuditLog} <= set(tenant_models())


@pytest.mark.django_db
@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_every_tenant_model_raises_outside_a_scope(model):
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model._default_manager.filter(pk=1).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_every_tenant_model_is_filtered_by_the_active_scope(model, association, other_association):
    with scope(association=association):
        query = str(model.objects.all().query)
    assert "association_id" in query and f"= {association.pk}" in query


def test_escape_hatches_only_in_listed_files():
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if ESCAPE_HATCH.search(path.read_text(encoding="utf-8")):
                found.add(path.relative_to(ROOT).as_posix())
    assert found <= ESCAPE_HATCH_FILES, f"Unlisted escape hatches: {sorted(found - ESCAPE_HATCH_FILES)}"


@pytest.mark.django_db
def test_scope_filters_rows_of_other_tenants(association, other_association, users):
    with scope(association=other_association):
        assert UserRole.objects.count() == 1  # only the outsider, the coordinator of beta
    with scope(association=association):
        assert UserRole.objects.count() == 3
        assert not UserRole.objects.filter(user=users["outsider"]).exists()


# --- Another tenant's ids in URLs and forms --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name,data", [
    ("invitation_resend", {}), ("invitation_revoke", {}),
])
def test_other_tenant_invitation_id_gives_404_and_changes_nothing(coordinator_client, association,
                                                                   other_association, name, data):
    theirs = make_invitation(other_association, email="theirs@example.org")
    url = reverse(name, kwargs={"association_slug": association.slug, "pk": theirs.pk})
    assert coordinator_client.post(url, data).status_code == 404
    with scope(association=other_association):
        fresh = Invitation.objects.get(pk=theirs.pk)
    assert fresh.nonce == theirs.nonce and fresh.revoked_at is None
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("name,data", [("role_remove", {}), ("role_change", {"role": Role.VIEWER})])
def test_other_tenant_role_id_gives_404_and_changes_nothing(coordinator_client, users, association,
                                                             other_association, name, data):
    with scope(association=other_association):
        theirs = UserRole.objects.get(user=users["outsider"])
    url = reverse(name, kwargs={"association_slug": association.slug, "pk": theirs.pk})
    assert coordinator_client.post(url, data).status_code == 404
    with scope(association=other_association):
        assert UserRole.objects.get(pk=theirs.pk).role == Role.COORDINATOR


@pytest.mark.django_db
def test_unknown_ids_give_404(coordinator_client, association):
    for name in ("invitation_resend", "invitation_revoke", "role_remove", "role_change"):
        url = reverse(name, kwargs={"association_slug": association.slug, "pk": 999999})
        assert coordinator_client.post(url).status_code == 404


@pytest.mark.django_db
def test_audit_filter_refuses_other_tenant_user(coordinator_client, users, association):
    url = reverse("audit_log", args=[association.slug])
    response = coordinator_client.get(url, {"actor": users["outsider"].pk})
    assert response.status_code == 200
    assert "actor" in response.context["filter"].form.errors
    assert list(response.context["table"].data) == []


class _RoleForm(TenantFormMixin, forms.Form):
    role = SafeModelChoiceField(queryset=UserRole.objects.none())


@pytest.mark.django_db
def test_tenant_form_restricts_choices_to_the_association(users, association, other_association):
    with scope(association=other_association):
        theirs = UserRole.objects.get(user=users["outsider"])
    with scope(association=association):
        mine = UserRole.objects.get(user=users[Role.VIEWER])
        form = _RoleForm({"role": theirs.pk}, association=association)
        assert not form.is_valid() and "role" in form.errors
        assert _RoleForm({"role": mine.pk}, association=association).is_valid()


# --- Background tasks ------------------------------------------------------------------------


@celery_app.task(base=TenantTask, name="tests.visible_invitations")
def visible_invitations(association, invitation_id=None):
    """Reports what a tenant task can see: every invitation, and one looked up by id."""
    return {
        "all": sorted(Invitation.objects.values_list("email", flat=True)),
        "by_id": Invitation.objects.filter(pk=invitation_id).exists(),
    }


@pytest.mark.django_db
def test_task_for_tenant_a_cannot_read_tenant_b(association, other_association):
    make_invitation(association, email="mine@example.org")
    theirs = make_invitation(other_association, email="theirs@example.org")
    result = visible_invitations.apply(args=[association.pk, theirs.pk]).get()
    assert result == {"all": ["mine@example.org"], "by_id": False}


@pytest.mark.django_db
def test_invitation_task_with_other_tenant_id_sends_nothing(association, other_association):
    theirs = make_invitation(other_association, email="theirs@example.org")
    assert send_invitation_email.apply(args=[association.pk, theirs.pk]).get() == "skipped"
    assert mail.outbox == []


def test_tenant_task_refuses_objects_instead_of_ids():
    with pytest.raises(TypeError):
        visible_invitations.apply(args=["alpha"]).get()
