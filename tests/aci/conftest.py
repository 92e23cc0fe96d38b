"""Shared fixtures of the ACI tests: reference data, a contract for ``association`` and one for
``other_association``.

Transactional (browser) tests flush the reference data of the data migration; ``ensure_aci_reference()``
reloads it, like ``tests.factories.ensure_professions`` does for professions.
"""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from django_scopes import scope


def ensure_aci_reference() -> None:
    """Reload the ACI reference data (versions, sizes, mission catalogue, templates, action types) if flushed."""
    from django.apps import apps

    from missions.models import ACIVersion

    if not ACIVersion.objects.exists():
        importlib.import_module("missions.migrations.0002_reference_data").load(apps, None)


def make_contract(association, *, signed_on: date | None = None, version_code: str = "avenant-2",
                  complementary: tuple[str, ...] = ("qualite", "accompagnement"), **kwargs):
    """A contract with every socle mission of the version plus the given complémentaires (direct create)."""
    from missions.models import ACIVersion, Contract, ContractMission, MissionKind

    ensure_aci_reference()
    version = ACIVersion.objects.get(code=version_code)
    if signed_on is None:
        signed_on = date.today() - relativedelta(years=4, months=3)
    kwargs.setdefault("cpam_name", "CPAM de la Gironde")
    kwargs.setdefault("ars_name", "ARS Nouvelle-Aquitaine")
    with scope(association=association):
        contract = Contract.objects.create(association=association, version=version, signed_on=signed_on,
                                           **kwargs)
        for mission_type in version.mission_types.all():
            if mission_type.kind == MissionKind.SOCLE or mission_type.code in complementary:
                ContractMission.objects.create(association=association, contract=contract,
                                               mission_type=mission_type)
    return contract


@pytest.fixture
def aci_reference(db):
    ensure_aci_reference()


@pytest.fixture
def contract(association):
    """The test association's contract, signed 4 years and 3 months ago on avenant 2, with the six missions."""
    return make_contract(association, number="CPTS-ALPHA-2021")


@pytest.fixture
def other_contract(other_association):
    """The other association's contract (for tenancy checks), same shape."""
    return make_contract(other_association, number="CPTS-BETA-2021")
