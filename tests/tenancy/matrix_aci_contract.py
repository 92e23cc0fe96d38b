"""Matrix rows of the contract, avenants and missions screens (``/a/<slug>/aci/``)."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.core.files.base import ContentFile
from django_scopes import scope

from missions.models import Avenant, Contract, ContractMission, DeadlineChange
from tests.aci.conftest import ensure_aci_reference, make_contract
from tests.tenancy.matrix_base import ALL, EDITORS, Case, audited, exists, row_is

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def contract_objects(association, users) -> dict:
    """A contract signed 4 years and 3 months ago (PDF stored) with its six missions and one avenant (PDF)."""
    contract = make_contract(association)
    with scope(association=association):
        contract.document.save("contrat.pdf", ContentFile(PDF), save=True)
        avenant = Avenant(association=association, contract=contract, number=1,
                          signed_on=contract.signed_on + timedelta(days=200), summary="Report du parcours")
        avenant.document.save("avenant-1.pdf", ContentFile(PDF), save=False)
        avenant.save()
        mission = contract.missions.get(mission_type__code="acces")
    return {"contract": contract.pk, "avenant": avenant.pk, "mission": mission.pk}


SETUP = contract_objects


def no_contract(association, users) -> dict:
    ensure_aci_reference()
    return {}


def _mission(o) -> dict:
    return {"pk": o["mission"]}


def _avenant(o) -> dict:
    return {"pk": o["avenant"]}


SIGNED = date.today() - relativedelta(years=1)
NEW_CONTRACT = {"version": "avenant-2", "number": "MATRICE-1", "signed_on": SIGNED.isoformat(),
                "cpam_name": "CPAM matrice", "ars_name": "ARS matrice", "achievement_cap": "100",
                "complementary": []}
EDITED_CONTRACT = {"version": "avenant-2", "number": "CPTS-2021", "signed_on": (date.today() - relativedelta(
    years=4, months=3)).isoformat(), "cpam_name": "CPAM modifiée", "ars_name": "ARS Nouvelle-Aquitaine",
    "achievement_cap": "100"}


def _deadline(o) -> dict:
    return {"kind": "deployment", "due_on": (date.today() + timedelta(days=90)).isoformat(), "avenant": o["avenant"],
            "reason": "Report par avenant"}


CASES = {
    "aci_contract": Case(ALL, setup=SETUP),
    "aci_contract_create": Case(EDITORS, "post", (302,), NEW_CONTRACT, setup=no_contract,
                                effect=(exists(Contract, cpam_name="CPAM matrice"), audited("aci.contract_create"))),
    "aci_contract_edit": Case(EDITORS, "post", (302,), EDITED_CONTRACT, setup=SETUP,
                              effect=(row_is(Contract, "contract", cpam_name="CPAM modifiée"),
                                      audited("aci.contract_update", "contract"))),
    "aci_contract_document": Case(ALL, setup=SETUP),
    "aci_avenant_create": Case(EDITORS, "post", (302,), {"signed_on": (date.today() - timedelta(days=10)).isoformat(),
                                                         "summary": "Nouvelle cible de l'indicateur"}, setup=SETUP,
                               effect=(exists(Avenant, number=2), audited("aci.avenant_create"))),
    "aci_avenant_document": Case(ALL, kwargs=_avenant, setup=SETUP),
    "aci_missions": Case(ALL, setup=SETUP),
    "aci_mission_detail": Case(ALL, kwargs=_mission, setup=SETUP),
    "aci_mission_edit": Case(EDITORS, "post", (302,), {"start_months": "3", "deployment_months": "20"},
                             kwargs=_mission, setup=SETUP,
                             effect=(row_is(ContractMission, "mission", start_months=3),
                                     audited("aci.mission_update", "mission"))),
    "aci_mission_status": Case(EDITORS, "post", (302,), {"status": "started", "started_on": (
        date.today() - relativedelta(years=4)).isoformat()}, kwargs=_mission, setup=SETUP,
        effect=(row_is(ContractMission, "mission", status="started"), audited("aci.mission_status", "mission"))),
    "aci_mission_deadline": Case(EDITORS, "post", (302,), _deadline, kwargs=_mission, setup=SETUP,
                                 effect=(exists(DeadlineChange, mission=lambda o: o["mission"], kind="deployment"),
                                         audited("aci.deadline_move", "mission"))),
}
