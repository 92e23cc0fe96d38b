"""Callers and objects of the tenancy proofs: the same cast and the same objects in two associations,
so that a row of the matrix can be replayed with the ids of the other one."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope

from associations.models import Role, UserRole
from associations.permissions import TREASURER
from tests.factories import UserFactory, grant, make_invitation, make_member
from tests.tenancy.matrix_base import MEMBER, PNG


def _treasurer(association, email: str):
    user = UserFactory(email=email)
    with scope(association=association):
        UserRole.objects.create(association=association, user=user, role=Role.VIEWER, is_treasurer=True)
    return user


@pytest.fixture
def users(users, association):
    """The shared callers (tests/conftest.py) plus the treasurer of ``association``: a viewer whose
    staff role carries ``is_treasurer``."""
    return {**users, TREASURER: _treasurer(association, "treasurer@alpha.example.org")}


@pytest.fixture
def other_users(users, other_association):
    """The same cast in ``other_association``; its coordinator is the ``outsider`` of ``users``."""
    people = {Role.COORDINATOR: users["outsider"]}
    for role in (Role.ASSISTANT, Role.VIEWER):
        people[role] = UserFactory(email=f"{role}@beta.example.org")
        grant(people[role], other_association, role)
    people[TREASURER] = _treasurer(other_association, "treasurer@beta.example.org")
    people[MEMBER] = UserFactory(email="membre@beta.example.org")
    return people


def base_objects(association, users) -> dict:
    """Objects every row may use: a logo, a pending invitation, the viewer's staff role and the member
    record linked to the ``member`` caller."""
    association.logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    association.save()
    invitation = make_invitation(association, email="invitee@example.org")
    with scope(association=association):
        viewer_role = UserRole.objects.get(user=users[Role.VIEWER])
    member = make_member(association, first_name="Membre", last_name="Connecté", email=users[MEMBER].email,
                         user=users[MEMBER])
    return {"invitation": invitation.pk, "invitation_nonce": invitation.nonce, "viewer_role": viewer_role.pk,
            "self_member": member.pk}


@pytest.fixture
def objects(association, users):
    return base_objects(association, users)


@pytest.fixture
def other_objects(other_association, other_users):
    return base_objects(other_association, other_users)
