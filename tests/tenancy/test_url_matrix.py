"""URL × role matrix for every URL under /a/<slug>/ (DESIGN.md §Tenancy proofs).

anonymous → redirect to login; a user of another association or of none → 404 (same answer as an
unknown slug); a role without the capability → 403; the right role → 200/302.
A URL added under /a/ without a row here makes ``test_every_tenant_url_is_in_the_matrix`` fail.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scope

from associations.models import Role, UserRole
from tests.factories import make_invitation

ALL = {Role.COORDINATOR, Role.ASSISTANT, Role.VIEWER}
COORD = {Role.COORDINATOR}


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@dataclass
class Case:
    name: str
    allowed: set[str]
    method: str = "get"
    ok: tuple[int, ...] = (200,)
    data: dict = field(default_factory=dict)
    pk: str | None = None  # "invitation" or "viewer_role": the object whose pk goes in the URL


MATRIX = {
    "dashboard": Case("dashboard", ALL),
    "team": Case("team", {Role.COORDINATOR, Role.ASSISTANT}),
    "invitation_create": Case("invitation_create", COORD, "post", (302,),
                              {"email": "nouvelle@example.org", "role": Role.ASSISTANT}),
    "invitation_resend": Case("invitation_resend", COORD, "post", (302,), pk="invitation"),
    "invitation_revoke": Case("invitation_revoke", COORD, "post", (302,), pk="invitation"),
    "role_remove": Case("role_remove", COORD, "post", (302,), pk="viewer_role"),
    "role_change": Case("role_change", COORD, "post", (302,), {"role": Role.ASSISTANT}, pk="viewer_role"),
    "audit_log": Case("audit_log", COORD),
    "association_settings": Case("association_settings", COORD),
    "association_logo": Case("association_logo", ALL),
}

CALLERS = ["anonymous", "nobody", "outsider", Role.VIEWER, Role.ASSISTANT, Role.COORDINATOR]


def tenant_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, inside: bool) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, inside or str(entry.pattern).startswith("a/"))
            elif isinstance(entry, URLPattern) and inside:
                assert entry.name, f"URL {entry.pattern} under /a/ has no name"
                names.add(entry.name)

    walk(get_resolver().url_patterns, False)
    return names


def test_every_tenant_url_is_in_the_matrix():
    assert tenant_url_names() == set(MATRIX), "Add every URL under /a/ to MATRIX (and only those)."


@pytest.fixture
def objects(association, users):
    association.logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    association.save()
    invitation = make_invitation(association, email="invitee@example.org")
    with scope(association=association):
        viewer_role = UserRole.objects.get(user=users[Role.VIEWER])
    return {"invitation": invitation.pk, "viewer_role": viewer_role.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_role_matrix(client, association, users, objects, name, caller):
    case = MATRIX[name]
    kwargs = {"association_slug": association.slug}
    if case.pk:
        kwargs["pk"] = objects[case.pk]
    url = reverse(name, kwargs=kwargs)
    if caller != "anonymous":
        client.force_login(users[caller])
    response = getattr(client, case.method)(url, case.data)
    if caller == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif caller in ("nobody", "outsider"):
        assert response.status_code == 404
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
