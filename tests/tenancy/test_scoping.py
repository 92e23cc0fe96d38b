"""Tenant-owned models are scoped, escape hatches are confined, other tenants' ids are refused."""

from __future__ import annotations

import io
import re
import tokenize
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

# DESIGN.md §Tenancy rule 8: ways of stepping outside a scope (or past the ORM, where no scope applies).
# Matched in code only: comments and string literals (docstrings) may talk about them.
ESCAPE_HATCHES = {
    "scopes_disabled": re.compile(r"\b(?:with_)?scopes_disabled\b|\b_enabled\b"),  # also scope(_enabled=False)
    "_base_manager": re.compile(r"\b_?base_manager\b"),
    "raw SQL in the ORM": re.compile(r"\.\s*raw\s*\(|\.\s*extra\s*\(|\bRawSQL\b"),
    # connection.cursor(), a cursor kept or passed around, cursor.execute, connections["alias"]
    "cursor": re.compile(r"(?i)cursor|\.\s*execute(?:many|script)?\s*\(|\bconnections\s*\["),
    # the DB-API / libpq connection under Django's (queries that bypass even the cursor wrapper)
    "driver connection": re.compile(r"\bconnection\s*\.\s*connection\b|\bpgconn\b|\bget_new_connection\b"),
}

# The only files allowed to use them, each hatch with its reason. A new use anywhere else fails, and so
# does a listed use that disappeared (keep the list short and true).
ESCAPE_HATCH_FILES = {
    "associations/middleware.py": {
        "scopes_disabled": "the Django admin (superusers only, rule 7) works across associations",
    },
    "associations/unscoped.py": {
        "_base_manager": "lookups by a global key (signed invitation link, outbox sweep, bounce address, mail uid) "
                         "that find the one association whose scope the caller then enters",
    },
    "associations/views.py": {
        "cursor": "/healthz runs SELECT 1 to report database liveness; it reads no table",
    },
    "associations/campaigns/outbox.py": {
        "cursor": "the per-message 'mark sent' is one prepared UPDATE naming association_id like a scoped query "
                  "(the ORM cost as much as the query), and SET synchronous_commit around a batch on PostgreSQL",
        "driver connection": "on PostgreSQL that UPDATE is pipelined through libpq (pgconn.send_query_params) so the "
                             "final SMTP '.' follows it at once; same WHERE association_id clause",
    },
}


def first_party_packages(root: Path = ROOT) -> list[Path]:
    """Every package of the project, read from disk at test time: the installed apps that live in the
    repository and any top-level package (cpts, an app not installed yet), with all their sub-packages
    (associations/imports/, missions/, finance/, indicators/...). Migrations are left out."""
    packages = {Path(config.path).resolve() for config in apps.get_app_configs()}
    packages |= {init.parent for init in root.glob("*/__init__.py")}
    return sorted(path for path in packages if _is_project_code(path, root))


# Not app code: the test suite itself, the benchmarks, the virtualenv and other hidden folders.
NOT_SCANNED = {"tests", "bench", "scripts"}


def _is_project_code(path: Path, root: Path = ROOT) -> bool:
    if not path.is_relative_to(root) or path == root:
        return False
    top = path.relative_to(root).parts[0]
    return top not in NOT_SCANNED and not top.startswith(".") and "site-packages" not in path.parts


def code_lines(source: str) -> dict[int, str]:
    """Line number → the code tokens of that line, comments and string literals left out."""
    skipped = {tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    lines: dict[int, list[str]] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.string.strip():
            lines.setdefault(token.start[0], []).append(token.string)
    return {number: " ".join(parts) for number, parts in lines.items()}


def escape_hatch_uses(root: Path = ROOT) -> dict[tuple[str, str], list[int]]:
    """(file relative to the repository, hatch) → the lines using it, files read afresh from disk."""
    uses: dict[tuple[str, str], list[int]] = {}
    for package in first_party_packages(root):
        for path in sorted(package.rglob("*.py")):
            if "migrations" in path.relative_to(package).parts:
                continue
            relative = path.relative_to(root).as_posix()
            for number, code in code_lines(path.read_text(encoding="utf-8")).items():
                for hatch, pattern in ESCAPE_HATCHES.items():
                    if pattern.search(code):
                        uses.setdefault((relative, hatch), []).append(number)
    return uses


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


def test_the_scan_covers_every_package():
    """Every Python file of the project outside tests/, bench/ and migrations is in a scanned package,
    including packages added since this test was written."""
    scanned = first_party_packages()
    assert {"associations", "cpts", "missions", "finance", "indicators"} <= {p.name for p in scanned}
    outside = sorted(
        path.relative_to(ROOT).as_posix()
        for top in ROOT.iterdir() if top.is_dir() and _is_project_code(top)
        for path in top.rglob("*.py")
        if "migrations" not in path.parts and not any(path.is_relative_to(package) for package in scanned)
    )
    assert not outside, f"Python files outside every scanned package: {outside}"


def test_escape_hatches_only_in_listed_files():
    uses = escape_hatch_uses()
    allowed = {(path, hatch) for path, hatches in ESCAPE_HATCH_FILES.items() for hatch in hatches}
    unlisted = {f"{path}:{lines} {hatch}" for (path, hatch), lines in uses.items() if (path, hatch) not in allowed}
    assert not unlisted, f"Unlisted escape hatches (DESIGN.md §Tenancy rule 8): {sorted(unlisted)}"
    stale = sorted(f"{path} {hatch}" for path, hatch in allowed - set(uses))
    assert not stale, f"Listed escape hatches no longer used: remove them from ESCAPE_HATCH_FILES: {stale}"


def test_a_new_package_is_scanned(tmp_path):
    """A package created after this test was written (say ``associations/imports/``) is read too."""
    (tmp_path / "associations" / "imports").mkdir(parents=True)
    (tmp_path / "associations" / "__init__.py").write_text("")
    (tmp_path / "associations" / "imports" / "__init__.py").write_text("")
    (tmp_path / "associations" / "imports" / "services.py").write_text(
        '"""No cursor here."""\nfrom django.db import connection\n\n\ndef count():\n'
        '    with connection.cursor() as c:  # the cursor\n        c.execute("SELECT 1")\n')
    (tmp_path / "associations" / "migrations").mkdir()
    (tmp_path / "associations" / "migrations" / "0001_initial.py").write_text("connection.cursor()\n")
    assert escape_hatch_uses(tmp_path) == {("associations/imports/services.py", "cursor"): [6, 7]}


@pytest.mark.parametrize("snippet,hatch", [
    ("with connection.cursor() as cursor:\n    cursor.execute('SELECT 1')\n", "cursor"),
    ("run = connection.cursor\n", "cursor"),
    ("db = connections['default']\n", "cursor"),
    ("c.execute(sql)\n", "cursor"),
    ("raw = connection.connection\n", "driver connection"),
    ("with scopes_disabled():\n    pass\n", "scopes_disabled"),
    ("with scope(_enabled=False):\n    pass\n", "scopes_disabled"),
    ("Member._base_manager.all()\n", "_base_manager"),
    ("Member.objects.raw('SELECT 1')\n", "raw SQL in the ORM"),
    ("Member.objects.annotate(x=RawSQL('1', []))\n", "raw SQL in the ORM"),
])
def test_escape_hatch_patterns(snippet, hatch):
    assert any(ESCAPE_HATCHES[hatch].search(code) for code in code_lines(snippet).values())
    # Talking about it is not using it.
    talk = code_lines(f"# {snippet!r}\nnote = {snippet!r}\n")
    assert talk == {2: "note ="} and not any(pattern.search("note =") for pattern in ESCAPE_HATCHES.values())


@pytest.mark.django_db
def test_scope_filters_rows_of_other_tenants(association, other_association, users):
    with scope(association=other_association):
        assert UserRole.objects.count() == 1  # only the outsider, the coordinator of beta
    with scope(association=association):
        assert UserRole.objects.count() == 4  # coordinator, assistant, viewer, treasurer (tenancy/conftest.py)
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
