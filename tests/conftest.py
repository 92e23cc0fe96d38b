from __future__ import annotations

import pytest
from django_scopes import scope

from associations.models import Role
from cpts.celery import app as celery_app
from tests.factories import AssociationFactory, UserFactory, grant


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    """Per-test cache, media folder and eager Celery (the real worker is tested in tests/services)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": str(tmp_path)}}
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://testserver"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; prod keeps PBKDF2
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def association(db):
    return AssociationFactory(name="CPTS Alpha", slug="alpha", population=120_000)


@pytest.fixture
def other_association(db):
    return AssociationFactory(name="CPTS Beta", slug="beta", population=20_000)


@pytest.fixture
def users(association, other_association):
    """One user per role in ``association``, plus an outsider who is coordinator of ``other_association``."""
    people = {}
    for role in Role.values:
        user = UserFactory(email=f"{role}@alpha.example.org")
        grant(user, association, role)
        people[role] = user
    outsider = UserFactory(email="coordinator@beta.example.org")
    grant(outsider, other_association, Role.COORDINATOR)
    people["outsider"] = outsider
    people["nobody"] = UserFactory(email="nobody@example.org")
    # A health professional with a login; tests that need them linked to a Member record link it.
    people["member"] = UserFactory(email="membre@example.org")
    return people


@pytest.fixture
def coordinator(users):
    return users["coordinator"]


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture
def in_scope(association):
    with scope(association=association):
        yield association


@pytest.fixture
def claire(association, coordinator):
    """A member created through the service (so the history has its first row), tariffs set."""
    from associations.membership import services
    from associations.models import Profession
    from tests.factories import ensure_professions, set_tariffs

    ensure_professions()  # transactional tests flush the reference data; reload it when needed
    set_tariffs(association)
    with scope(association=association):
        return services.create_member(association, coordinator, {
            "first_name": "Claire", "last_name": "Martin", "email": "claire@exemple.fr",
            "profession": Profession.objects.get(code="medecin-generaliste"),
        })


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """A test that is not a browser test must not pull in pytest-playwright's fixtures (a parameter
    named ``page``, ``context`` or ``browser`` does): the session-scoped browser parameter would regroup
    it with the transactional browser tests, which flush the reference data before it runs."""
    wrong = [item.nodeid for item in items
             if "browser_name" in getattr(item, "fixturenames", ()) and item.get_closest_marker("browser") is None]
    if wrong:
        raise pytest.UsageError("Rename the parameter that collides with a Playwright fixture in: " + ", ".join(wrong))
