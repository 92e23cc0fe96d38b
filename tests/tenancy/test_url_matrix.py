"""URL × role matrix for every URL under /a/<slug>/ (DESIGN.md §Tenancy proofs).

anonymous → redirect to login; a user of another association or of none → 404 (same answer as an
unknown slug); a role without the capability → 403; the right role → 200/302.
A URL added under /a/ without a row here makes ``test_every_tenant_url_is_in_the_matrix`` fail.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scope

from associations.models import Role, UserRole
from tests.factories import make_invitation, make_member
from tests.tenancy import (
    matrix_campaigns,
    matrix_core,
    matrix_imports,
    matrix_members,
    matrix_membership_admin,
    matrix_public_mail,
    matrix_reminders,
    matrix_renewal,
)
from tests.tenancy.matrix_base import CALLERS, MEMBER, Case


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


MATRIX: dict[str, Case] = {}
PUBLIC_MATRIX: dict[str, Case] = {}  # public pages of an association under /p/<slug>/
for _module in (matrix_core, matrix_members, matrix_membership_admin, matrix_imports, matrix_renewal,
                matrix_campaigns, matrix_reminders, matrix_public_mail):
    overlap = set(MATRIX) & set(_module.CASES)
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


def test_every_tenant_url_is_in_the_matrix():
    assert tenant_url_names("a/") == set(MATRIX), "Add every URL under /a/ to a matrix_*.py CASES (and only those)."
    assert tenant_url_names("p/") == set(PUBLIC_MATRIX), "Add every URL under /p/ to a matrix_*.py PUBLIC_CASES."


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PUBLIC_MATRIX))
def test_public_tenant_urls(client, association, users, objects, name):
    """Public pages answer anonymous visitors inside the association's scope; an unknown slug is a 404."""
    case = PUBLIC_MATRIX[name]
    if case.setup:
        objects = {**objects, **case.setup(association, users)}
    extra = case.kwargs(objects) if case.kwargs else {}
    data = case.data(objects) if callable(case.data) else case.data
    response = getattr(client, case.method)(reverse(name, kwargs={"association_slug": association.slug, **extra}),
                                            data)
    assert response.status_code in case.ok
    unknown = client.get(reverse(name, kwargs={"association_slug": "nexiste-pas", **extra}))
    assert unknown.status_code == 404


@pytest.fixture
def objects(association, users):
    association.logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    association.save()
    invitation = make_invitation(association, email="invitee@example.org")
    with scope(association=association):
        viewer_role = UserRole.objects.get(user=users[Role.VIEWER])
    member = make_member(association, first_name="Membre", last_name="Connecté", email=users[MEMBER].email,
                         user=users[MEMBER])
    return {"invitation": invitation.pk, "viewer_role": viewer_role.pk, "self_member": member.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_role_matrix(client, association, users, objects, name, caller):
    case = MATRIX[name]
    if case.setup:
        objects = {**objects, **case.setup(association, users)}
    kwargs = {"association_slug": association.slug, **(case.kwargs(objects) if case.kwargs else {})}
    url = reverse(name, kwargs=kwargs)
    if caller != "anonymous":
        client.force_login(users[caller])
    data = case.data(objects) if callable(case.data) else case.data
    response = getattr(client, case.method)(url, data)
    if caller == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif caller in ("nobody", "outsider"):
        assert response.status_code == 404
    elif caller == MEMBER and MEMBER not in case.allowed:
        assert response.status_code == 403
    elif caller in case.allowed:
        assert response.status_code in case.ok, response.content.decode()[:500]
    else:
        assert response.status_code == 403


@pytest.mark.django_db
def test_unknown_slug_and_not_yours_give_the_same_404(client, users, association, other_association):
    client.force_login(users[Role.COORDINATOR])
    unknown = client.get("/a/nexiste-pas/")
    not_yours = client.get(reverse("dashboard", args=[other_association.slug]))
    assert unknown.status_code == not_yours.status_code == 404
    # Same page, byte for byte, but for the per-request CSRF token of the logout form.
    strip = lambda r: re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", r.content)  # noqa: E731
    assert strip(unknown) == strip(not_yours)
