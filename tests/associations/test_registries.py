"""The extension points apps fill in ready(): capabilities, audit action types, dashboard blocks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from associations.models import Role
from associations.permissions import capabilities_for
from associations.registries import (
    DashboardBlock,
    audit_action_label,
    audit_actions,
    capabilities,
    dashboard_blocks,
    register_audit_actions,
    register_capability,
    register_dashboard_block,
)

ROOT = Path(__file__).resolve().parents[2]
APPS = ["associations", "missions", "finance", "indicators"]


@pytest.fixture
def temporary_entries():
    added: list[tuple[object, str]] = []
    yield added
    for registry, key in added:
        registry.unregister(key)


def test_registering_a_key_twice_is_refused():
    with pytest.raises(ImproperlyConfigured, match="view_members"):
        register_capability("view_members", {Role.VIEWER})
    with pytest.raises(ImproperlyConfigured, match="member.create"):
        register_audit_actions({"member.create": "Autre libellé"})


def test_a_capability_registered_by_another_app_is_granted_to_its_roles(temporary_entries):
    register_capability("probe_manage_budget", {Role.COORDINATOR, "treasurer"}, "Gérer le budget")
    temporary_entries.append((capabilities, "probe_manage_budget"))
    assert "probe_manage_budget" in capabilities_for(Role.COORDINATOR)
    assert "probe_manage_budget" not in capabilities_for(Role.VIEWER)
    assert "probe_manage_budget" in capabilities_for(Role.VIEWER, elected={"treasurer"})
    assert "probe_manage_budget" not in capabilities_for(None)


def test_treasurer_adds_payment_validation_to_a_viewer_only():
    viewer = capabilities_for(Role.VIEWER)
    treasurer = capabilities_for(Role.VIEWER, elected={"treasurer"})
    assert treasurer - viewer == {"validate_payments"}
    assert "member_space" in capabilities_for("member") and "view_dashboard" not in capabilities_for("member")


def test_every_audit_action_the_code_writes_has_a_registered_label():
    """A literal action code passed to audit.record() anywhere in the apps must have a French label."""
    pattern = re.compile(r"audit\.record\(\s*[^,]+,\s*[^,]+,\s*\"([a-z_]+\.[a-z_]+)\"")
    written: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            written |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert len(written) > 30  # the scan itself works
    missing = sorted(code for code in written if code not in audit_actions)
    assert not missing, f"Audit actions without a registered label: {missing}"
    assert audit_action_label("member.create") == "Adhérent créé"
    assert audit_action_label("unknown.code") == "unknown.code"


@pytest.mark.django_db
def test_a_block_registered_by_another_app_shows_on_the_dashboard_for_its_capability_only(
    client, users, association, temporary_entries
):
    calls = []

    def selector(request):
        calls.append(request.association.pk)
        return {"probe_value": "Échéance ACI dans 12 jours"}

    block = DashboardBlock(key="probe", title="Échéances", template="associations/blocks/about.html",
                           selector=selector, capability="view_audit", order=1)
    register_dashboard_block(block)
    temporary_entries.append((dashboard_blocks, "probe"))
    url = reverse("dashboard", args=[association.slug])

    client.force_login(users[Role.COORDINATOR])
    body = client.get(url).content.decode()
    assert 'data-block="probe"' in body
    assert body.index('data-block="probe"') < body.index('data-block="overview"')  # order 1 comes first
    assert calls == [association.pk]

    client.force_login(users[Role.VIEWER])  # no view_audit: the block and its selector are skipped
    body = client.get(url).content.decode()
    assert 'data-block="probe"' not in body and 'data-block="overview"' in body
    assert calls == [association.pk]


@pytest.mark.django_db
def test_dashboard_blocks_follow_capabilities(client, users, association):
    url = reverse("dashboard", args=[association.slug])
    client.force_login(users[Role.VIEWER])
    body = client.get(url).content.decode()
    for key in ("overview", "members", "recent", "about"):
        assert f'data-block="{key}"' in body


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_the_data(client, users, association, in_scope):
    from tests.factories import ensure_professions, make_member

    ensure_professions()
    client.force_login(users[Role.COORDINATOR])
    url = reverse("dashboard", args=[association.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(25):
        make_member(association, last_name=f"Nom{i}", email=f"nom{i}@example.org")
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert response.status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries)
