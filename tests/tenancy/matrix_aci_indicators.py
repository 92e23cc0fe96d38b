"""Matrix rows of the indicator grid, the indicator forms, the value page and the evidence
(``/a/<slug>/aci/indicateurs/``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope

from indicators.models import Evidence, Indicator, IndicatorValue, TargetRevision
from missions.models import Action, ActionType, Avenant
from tests.aci.conftest import make_contract
from tests.tenancy.matrix_base import ALL, CALLER, EDITORS, Case, audited, deleted, exists, row_is

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def indicator_objects(association, users) -> dict:
    """A contract with one indicator of the first mission (year 1: 1 200 → 800, realised 950) carrying one
    evidence file, an avenant and an action."""
    from indicators import services

    contract = make_contract(association)
    coordinator = users["coordinator"]
    with scope(association=association):
        mission = contract.missions.order_by("mission_type__order").first()
        indicator = services.create_indicator(mission, coordinator, {
            "label": "Patients ALD sans médecin traitant", "unit": "count", "direction": "down",
            "weight": Decimal(1)})
        for field, raw in (("baseline", "1200"), ("target", "800"), ("realised", "950")):
            value = services.save_value(indicator, 1, field, raw, coordinator)
        evidence = services.add_evidence(association, coordinator, SimpleUploadedFile("donnees-cpam.pdf", PDF),
                                         kind="cpam_data", title="Données CPAM", on=date.today(),
                                         indicator=indicator, year=1)
        avenant = Avenant.objects.create(association=association, contract=contract, number=1,
                                         signed_on=date.today(), summary="Révision des objectifs")
        action = Action.objects.create(association=association, mission=mission,
                                       action_type=ActionType.objects.order_by("order").first(),
                                       title="Réunion pluriprofessionnelle", date=date.today())
    return {"indicator": indicator.pk, "value": value.pk, "evidence": evidence.pk, "mission": mission.pk,
            "avenant": avenant.pk, "aci_action": action.pk}


SETUP = indicator_objects


def _indicator(o) -> dict:
    return {"pk": o["indicator"]}


def _cell(o) -> dict:
    return {"pk": o["indicator"], "year": 1}


def _new_indicator(o) -> dict:
    return {"mission": o["mission"], "label": "Créneaux SNP ouverts", "unit": "count", "direction": "up",
            "weight": "1", "source": "cpts", "feed": "manual"}


def _evidence_upload(o) -> dict:
    return {"kind": "sign_in", "title": "Feuille d'émargement RPC", "date": date.today().isoformat(),
            "file": SimpleUploadedFile("emargement.pdf", PDF)}


CASES = {
    "aci_grid": Case(ALL, setup=SETUP),
    "aci_indicator_create": Case(EDITORS, "post", (302,), _new_indicator, setup=SETUP,
                                 effect=(exists(Indicator, label="Créneaux SNP ouverts"),
                                         audited("indicator.create"))),
    "aci_indicator_edit": Case(EDITORS, "post", (302,),
                               {"label": "Patients ALD sans MT", "unit": "count", "direction": "down",
                                "weight": "2", "source": "cpam", "feed": "manual"},
                               kwargs=_indicator, setup=SETUP,
                               effect=(row_is(Indicator, "indicator", label="Patients ALD sans MT"),
                                       audited("indicator.update", "indicator"))),
    "aci_indicator_delete": Case(EDITORS, "post", (302,), kwargs=_indicator, setup=SETUP,
                                 effect=(deleted(Indicator, "indicator"), audited("indicator.delete", "indicator"))),
    # Without htmx the cell sends the caller to the value page.
    "aci_cell": Case(ALL, ok=(302,), kwargs=_cell, setup=SETUP),
    "aci_cell_detail": Case(ALL, kwargs=_cell, setup=SETUP),
    "aci_cell_edit": Case(EDITORS, "post", (302,), {"realised": "900", "measured_on": "2024-05-02"},
                          kwargs=lambda o: {"pk": o["indicator"], "year": 1, "field": "realised"}, setup=SETUP,
                          effect=(row_is(IndicatorValue, "value", realised=Decimal(900), entered_by=CALLER),
                                  audited("indicator_value.realised", "value"))),
    "aci_cell_revise": Case(EDITORS, "post", (302,), lambda o: {"target": "850", "avenant": o["avenant"]},
                            kwargs=_cell, setup=SETUP,
                            effect=(exists(TargetRevision, new_target=Decimal(850), avenant=lambda o: o["avenant"]),
                                    audited("indicator_value.target", "value"))),
    "aci_evidence": Case(ALL, setup=SETUP),
    "aci_evidence_upload": Case(EDITORS, "post", (302,), _evidence_upload, kwargs=_cell, setup=SETUP,
                                effect=(exists(Evidence, title="Feuille d'émargement RPC"),
                                        audited("evidence.add"))),
    "aci_evidence_download": Case(ALL, kwargs=lambda o: {"pk": o["evidence"]}, setup=SETUP),
    "aci_evidence_delete": Case(EDITORS, "post", (302,), kwargs=lambda o: {"pk": o["evidence"]}, setup=SETUP,
                                effect=(deleted(Evidence, "evidence"), audited("evidence.delete", "evidence"))),
    "aci_evidence_action": Case(ALL, kwargs=lambda o: {"pk": o["aci_action"]}, setup=SETUP),
}
