"""URL × role matrix for every URL under /a/<slug>/ (DESIGN.md §Tenancy proofs).

anonymous → redirect to login; a user of another association or of none → 404 (same answer as an
unknown slug); a role without the capability → 403; the right role → 200/302, and a POST leaves the
row's ``effect`` in the database. A refused call changes nothing (whole-database snapshot).
The same rows replayed with the ids of another association's objects are refused and change nothing.
A URL added under /a/ without a row here, or a row naming a URL that is gone, makes
``test_every_tenant_url_is_in_the_matrix`` / ``test_every_matrix_row_names_a_tenant_url`` fail.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_scopes import scope

import tests.tenancy
from associations.models import Invitation, Role
from associations.permissions import TREASURER
from tests.tenancy.matrix_base import (
    CALLERS,
    MEMBER,
    PNG,  # noqa: F401 - imported from here by tests/associations/test_team_audit.py
    Case,
    assert_unchanged,
    latest_audit_id,
    snapshot,
)

MATRIX: dict[str, Case] = {}
PUBLIC_MATRIX: dict[str, Case] = {}  # public pages of an association under /p/<slug>/
# Every module tests/tenancy/matrix_<feature>.py contributes its rows (CASES, and PUBLIC_CASES for /p/).
MATRIX_MODULES = [
    importlib.import_module(f"tests.tenancy.{info.name}")
    for info in pkgutil.iter_modules(tests.tenancy.__path__)
    if info.name.startswith("matrix_") and info.name != "matrix_base"
]
assert len(MATRIX_MODULES) >= 8
for _module in MATRIX_MODULES:
    overlap = (set(MATRIX) & set(_module.CASES)) | (set(PUBLIC_MATRIX) & set(getattr(_module, "PUBLIC_CASES", {})))
    assert not overlap, f"URL names listed twice in the matrix: {overlap}"
    MATRIX.update(_module.CASES)
    PUBLIC_MATRIX.update(getattr(_module, "PUBLIC_CASES", {}))


def tenant_url_names(prefix: str = "a/") -> set[str]:
    names: set[str] = set()

    def walk(patterns, inside: bool) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, inside or str(entry.pattern).startswith(prefix))
            elif isinstance(entry, URLPattern) and inside:
                assert entry.name, f"URL {entry.pattern} under /{prefix} has no name"
                names.add(entry.name)

    walk(get_resolver().url_patterns, False)
    return names


class _UsedKeys(dict):
    """Stands for the fixture objects and records which ones a row's ``kwargs`` or ``data`` reads."""

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> int:
        self.used.add(key)
        return 1


def object_keys(build) -> set[str]:
    """The fixture objects (ids, tokens) a row puts in its URL kwargs or its data."""
    if not callable(build):
        return set()
    keys = _UsedKeys()
    build(keys)
    return keys.used


def expected_answer(case: Case, caller: str) -> str:
    if caller == "anonymous":
        return "login"
    if caller in ("nobody", "outsider"):
        return "404"
    return "ok" if caller in case.allowed else "403"


def call(client, name: str, case: Case, slug: str, url_objects: dict, data_objects: dict | None = None):
    kwargs = {"association_slug": slug, **(case.kwargs(url_objects) if case.kwargs else {})}
    data = case.data(data_objects if data_objects is not None else url_objects) if callable(case.data) else case.data
    return getattr(client, case.method)(reverse(name, kwargs=kwargs), data)


def with_setup(case: Case, association, users, objects: dict) -> dict:
    return {**objects, **case.setup(association, users)} if case.setup else dict(objects)


def _holds(check, context: dict) -> bool:
    try:
        check(context)
    except Exception:  # noqa: BLE001 - an assertion, or the object it reads does not exist yet
        return False
    return True


def check_effect(case: Case, context: dict, run):
    """Each effect check fails before ``run()`` (it proves something) and passes after it."""
    context["audit_since"] = latest_audit_id()
    already = [check.__qualname__ for check in case.checks if _holds(check, context)]
    assert not already, f"effect already true before the request: {already}"
    response = run()
    for check in case.checks:
        check(context)
    return response


# --- The matrix covers the URLs, and only them ---------------------------------------------------


def test_every_tenant_url_is_in_the_matrix():
    missing = tenant_url_names("a/") - set(MATRIX)
    assert not missing, f"Add every URL under /a/ to a matrix_*.py CASES: {sorted(missing)}"
    missing = tenant_url_names("p/") - set(PUBLIC_MATRIX)
    assert not missing, f"Add every URL under /p/ to a matrix_*.py PUBLIC_CASES: {sorted(missing)}"


def test_every_matrix_row_names_a_tenant_url():
    """A row whose URL was removed, renamed or moved out of /a/ (or /p/) is stale; so is a row whose
    kwargs no longer fit the URL."""
    stale = set(MATRIX) - tenant_url_names("a/")
    assert not stale, f"Matrix rows naming no URL under /a/: {sorted(stale)}"
    stale = set(PUBLIC_MATRIX) - tenant_url_names("p/")
    assert not stale, f"Public matrix rows naming no URL under /p/: {sorted(stale)}"
    unfit = []
    for name, case in {**MATRIX, **PUBLIC_MATRIX}.items():
        try:
            reverse(name, kwargs={"association_slug": "alpha", **(case.kwargs(_UsedKeys()) if case.kwargs else {})})
        except NoReverseMatch:
            unfit.append(name)
    assert not unfit, f"Matrix rows whose kwargs do not fit their URL: {sorted(unfit)}"


def test_every_post_row_has_an_effect():
    missing = sorted(name for name, case in {**MATRIX, **PUBLIC_MATRIX}.items()
                     if case.method == "post" and not case.effect)
    assert not missing, f"POST rows without an effect check: {missing}"


@pytest.mark.django_db
def test_the_snapshot_sees_a_change_in_any_association_and_in_the_files(other_association, other_objects):
    before = snapshot()
    with scope(association=other_association):
        Invitation.objects.filter(pk=other_objects["invitation"]).update(revoked_at=timezone.now())
    with pytest.raises(AssertionError, match="associations.Invitation"):
        assert_unchanged(before)
    before = snapshot()
    default_storage.save("1/probe.txt", ContentFile(b"probe"))
    with pytest.raises(AssertionError, match="files under MEDIA_ROOT"):
        assert_unchanged(before)


# --- Public pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PUBLIC_MATRIX))
def test_public_tenant_urls(client, association, users, objects, name):
    """Public pages answer anonymous visitors inside the association's scope; an unknown slug is a 404
    and changes nothing."""
    case = PUBLIC_MATRIX[name]
    objects = with_setup(case, association, users, objects)
    context = {**objects, "association": association, "caller": None, "user": None}
    response = check_effect(case, context, lambda: call(client, name, case, association.slug, objects))
    assert response.status_code in case.ok
    before = snapshot()
    unknown = call(client, name, case, "nexiste-pas", objects)
    assert unknown.status_code == 404
    assert_unchanged(before)


# --- URL × caller ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_role_matrix(client, association, users, objects, name, caller):
    case = MATRIX[name]
    objects = with_setup(case, association, users, objects)
    if caller != "anonymous":
        client.force_login(users[caller])
    answer = expected_answer(case, caller)
    if answer == "ok":
        context = {**objects, "association": association, "caller": caller, "user": users[caller]}
        response = check_effect(case, context, lambda: call(client, name, case, association.slug, objects))
        assert response.status_code in case.ok, response.content.decode()[:500]
        return
    before = snapshot()
    response = call(client, name, case, association.slug, objects)
    if answer == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == int(answer)
    assert_unchanged(before)
    assert mail.outbox == []


# --- Another association's ids -----------------------------------------------------------------------

# Who replays a row: its most capable allowed caller.
_PREFERENCE = [Role.COORDINATOR, Role.ASSISTANT, TREASURER, Role.VIEWER, MEMBER]
# ``url``: the URL carries the other association's ids (the data, if any, this association's own);
# ``data``: this association's URL with the other association's ids in the query or form data.
FOREIGN_IDS = [
    pytest.param(name, variant, id=f"{name}-{variant}")
    for name, case in sorted(MATRIX.items())
    for variant, build in (("url", case.kwargs), ("data", case.data))
    if object_keys(build)
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,variant", FOREIGN_IDS)
def test_ids_of_another_association_are_refused(client, association, users, objects, other_association,
                                                other_users, other_objects, name, variant):
    """The right caller of association A, with the ids of association B's twin objects: 404 for an id
    in the URL (or in a GET query); for ids in POST data a refusal (form error, 404, or a redirect that
    ignored them); the database of both associations unchanged."""
    case = MATRIX[name]
    mine = with_setup(case, association, users, objects)
    theirs = with_setup(case, other_association, other_users, other_objects)
    caller = next(role for role in _PREFERENCE if role in case.allowed)
    client.force_login(users[caller])
    before = snapshot()
    if variant == "url":
        response = call(client, name, case, association.slug, theirs, mine)
    else:
        response = call(client, name, case, association.slug, mine, theirs)
    if variant == "url" or case.method == "get":
        assert response.status_code == 404
    else:
        assert response.status_code in (200, 302, 400, 404)
    assert_unchanged(before)
    assert mail.outbox == []


class _Unknown(dict):
    """Fixture objects that do not exist: every id or token is 0."""

    def __getitem__(self, key: str) -> int:
        return 0


def _page(response) -> bytes:
    """The answer but for the per-request CSRF token of the logout form."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(name for name, case in PUBLIC_MATRIX.items() if object_keys(case.kwargs)))
def test_public_links_of_another_association_are_refused(client, association, users, objects, other_association,
                                                         other_users, other_objects, name):
    """A link of association B (signed token, document id) under A's /p/ slug gets the answer of a link
    that does not exist (a 404; the open pixel is always the image), and changes nothing."""
    case = PUBLIC_MATRIX[name]
    mine = with_setup(case, association, users, objects)
    theirs = with_setup(case, other_association, other_users, other_objects)
    before = snapshot()
    foreign = call(client, name, case, association.slug, theirs, mine)
    assert_unchanged(before)
    unknown = call(client, name, case, association.slug, _Unknown(), mine)
    assert foreign.status_code == unknown.status_code
    assert foreign.status_code == 404 or name == "mail_open"
    assert _page(foreign) == _page(unknown)
    assert_unchanged(before)
    assert mail.outbox == []


# --- Unknown and not yours ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_slug_and_not_yours_give_the_same_404(client, users, association, other_association):
    client.force_login(users[Role.COORDINATOR])
    unknown = client.get("/a/nexiste-pas/")
    not_yours = client.get(reverse("dashboard", args=[other_association.slug]))
    assert unknown.status_code == not_yours.status_code == 404
    # Same page, byte for byte, but for the per-request CSRF token of the logout form.
    assert _page(unknown) == _page(not_yours)
