"""Screens of the ACI contract: creation and edit forms (errors next to fields, nothing saved on bad input),
read-only for the viewer and the treasurer, fixed query counts, the "Échéances ACI" dashboard block."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.models import Role, UserRole
from missions import services
from missions.models import Avenant, Contract, ContractMission, DeadlineChange, DeadlineKind
from tests.aci.conftest import ensure_aci_reference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(name, kwargs={"association_slug": "alpha", **kwargs})


@pytest.fixture
def treasurer(association):
    user = UserFactory(email="tresorier@alpha.example.org")
    with scope(association=association):
        UserRole.objects.create(association=association, user=user, role=Role.VIEWER, is_treasurer=True)
    return user


def _contract_post(**overrides):
    signed_on = (date.today() - relativedelta(years=1)).isoformat()
    data = {"version": "avenant-2", "number": "C-2024", "signed_on": signed_on,
            "cpam_name": "CPAM de la Gironde", "ars_name": "ARS Nouvelle-Aquitaine", "achievement_cap": "100",
            "size_override": "", "size_override_reason": "", "cpts_signatory": "Dr Martin"}
    data.update(overrides)
    return data


# --- Creation and edit ----------------------------------------------------------------------------------


def test_contract_page_offers_the_creation_form_when_there_is_none(coordinator_client, association):
    ensure_aci_reference()
    response = coordinator_client.get(url("aci_contract"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Créer le contrat" in html
    assert "Accompagnement des professionnels" in html  # a complémentaire to choose


def test_create_contract_with_a_complementary(coordinator_client, association):
    ensure_aci_reference()
    from missions.models import MissionType

    qualite = MissionType.objects.get(version__code="avenant-2", code="qualite")
    response = coordinator_client.post(url("aci_contract_create"), _contract_post(complementary=[qualite.pk]))
    assert response.status_code == 302
    with scope(association=association):
        contract = Contract.objects.get(association=association)
        assert contract.missions.count() == 5
    page = coordinator_client.get(url("aci_contract")).content.decode()
    assert "Calendrier des échéances" in page and "<svg" in page
    assert 'id="deadline-table"' in page  # the text table next to the chart


@pytest.mark.parametrize("overrides,field,message", [
    ({"signed_on": "31/02/2024"}, "signed_on", "Saisissez une date valide"),
    ({"signed_on": ""}, "signed_on", "Indiquez la date de signature"),
    ({"cpam_name": ""}, "cpam_name", "Indiquez la CPAM"),
    ({"size_override": "T2"}, "size_override_reason", "Indiquez le motif de la taille retenue"),
    ({"signed_on": (date.today() + timedelta(days=3)).isoformat()}, "signed_on", "dans le futur"),
])
def test_bad_contract_input_is_shown_next_to_the_field_and_nothing_saved(coordinator_client, association,
                                                                         overrides, field, message):
    ensure_aci_reference()
    response = coordinator_client.post(url("aci_contract_create"), _contract_post(**overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_errors"' in html
    with scope(association=association):
        assert not Contract.objects.filter(association=association).exists()
        assert not ContractMission.objects.filter(association=association).exists()


def test_edit_contract_error_next_to_field_and_nothing_saved(coordinator_client, association, contract):
    with scope(association=association):
        services.add_avenant(contract, None, signed_on=contract.signed_on + timedelta(days=30), summary="Report")
    later = (contract.signed_on + timedelta(days=60)).isoformat()
    response = coordinator_client.post(url("aci_contract_edit"), _contract_post(signed_on=later,
                                                                                cpam_name="CPAM changée"))
    assert response.status_code == 400
    assert "avant cette date de signature" in response.context["form"].errors["signed_on"][0]
    with scope(association=association):
        contract.refresh_from_db()
        assert contract.cpam_name == "CPAM de la Gironde"


def test_avenant_before_the_contract_refused(coordinator_client, association, contract):
    response = coordinator_client.post(url("aci_avenant_create"), {
        "signed_on": (contract.signed_on - timedelta(days=1)).isoformat(), "summary": "Trop tôt"})
    assert response.status_code == 400
    assert "avant le contrat" in response.context["form"].errors["signed_on"][0]
    with scope(association=association):
        assert not Avenant.objects.filter(association=association).exists()


def test_avenant_with_a_document_that_is_not_a_pdf_refused(coordinator_client, association, contract):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = coordinator_client.post(url("aci_avenant_create"), {
        "signed_on": (contract.signed_on + timedelta(days=10)).isoformat(), "summary": "Avenant 1",
        "document": SimpleUploadedFile("avenant.pdf", b"not a pdf", content_type="application/pdf")})
    assert response.status_code == 400
    assert "PDF" in response.context["form"].errors["document"][0]
    with scope(association=association):
        assert not Avenant.objects.filter(association=association).exists()


def test_mission_status_with_dates_in_the_wrong_order(coordinator_client, association, contract):
    with scope(association=association):
        mission = contract.missions.get(mission_type__code="acces")
    response = coordinator_client.post(url("aci_mission_status", pk=mission.pk), {
        "status": "deployed", "started_on": (contract.signed_on + timedelta(days=200)).isoformat(),
        "deployed_on": (contract.signed_on + timedelta(days=100)).isoformat()})
    assert response.status_code == 400
    assert "ne peut pas précéder le démarrage" in response.content.decode()
    assert 'id="id_deployed_on_errors"' in response.content.decode()
    with scope(association=association):
        mission.refresh_from_db()
        assert mission.status == "not_started"


def test_deadline_move_by_avenant_shows_the_history(coordinator_client, association, contract):
    with scope(association=association):
        mission = contract.missions.get(mission_type__code="parcours")
        avenant = services.add_avenant(contract, None, signed_on=contract.signed_on + timedelta(days=30),
                                       summary="Report")
    due = date.today() + timedelta(days=200)
    response = coordinator_client.post(url("aci_mission_deadline", pk=mission.pk), {
        "kind": "deployment", "due_on": due.isoformat(), "avenant": avenant.pk})
    assert response.status_code == 302
    page = coordinator_client.get(url("aci_mission_detail", pk=mission.pk)).content.decode()
    assert f"{due:%d/%m/%Y}" in page and "Avenant n° 1" in page and 'id="deadline-history"' in page


# --- Read-only callers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "treasurer"])
def test_viewer_and_treasurer_read_only(client, users, treasurer, association, contract, who):
    user = treasurer if who == "treasurer" else users["viewer"]
    client.force_login(user)
    with scope(association=association):
        mission = contract.missions.first()
    for page in (url("aci_contract"), url("aci_missions"), url("aci_mission_detail", pk=mission.pk)):
        response = client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Modifier le contrat" not in html and "Ajouter un avenant" not in html
        assert 'id="status-form"' not in html and 'id="deadline-form"' not in html and "Gérer" not in html
    posts = [(url("aci_contract_edit"), _contract_post()), (url("aci_avenant_create"), {"summary": "x"}),
             (url("aci_mission_status", pk=mission.pk), {"status": "started"}),
             (url("aci_mission_deadline", pk=mission.pk), {"kind": "start"}),
             (url("aci_mission_edit", pk=mission.pk), {})]
    for target, data in posts:
        assert client.post(target, data).status_code == 403
    with scope(association=association):
        assert not DeadlineChange.objects.filter(association=association).exists()
        assert not Avenant.objects.filter(association=association).exists()


# --- Query counts ---------------------------------------------------------------------------------------


def _queries(client, target) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(target).status_code == 200
    return len(ctx.captured_queries)


def _grow(association, contract, coordinator):
    """From one mission and no deadline change to six missions and 20 deadline changes."""
    with scope(association=association):
        avenant = services.add_avenant(contract, coordinator, signed_on=contract.signed_on + timedelta(days=10),
                                       summary="Reports")
        missions = list(contract.missions.all())
        for i in range(20):
            mission = missions[i % 4]  # the socle missions have computed deadlines
            services.move_deadline(mission, coordinator, DeadlineKind.DEPLOYMENT,
                                   date.today() + timedelta(days=100 + i), avenant=avenant)


@pytest.mark.parametrize("name", ["aci_contract", "aci_missions", "dashboard"])
def test_query_counts_do_not_grow(coordinator_client, coordinator, association, contract, name):
    with scope(association=association):
        removed = list(contract.missions.exclude(mission_type__code="acces"))
        for mission in removed:
            mission.delete()
    small = _queries(coordinator_client, url(name))
    with scope(association=association):
        for mission in removed:
            mission.pk = None
            mission.save()
        assert contract.missions.count() == 6
    _grow(association, contract, coordinator)
    large = _queries(coordinator_client, url(name))
    assert small == large, f"{name}: {small} queries with 1 mission, {large} with 6 missions and 20 moves"


def test_contract_page_query_count_figure(coordinator_client, contract, django_assert_max_num_queries):
    # session, user, role, association (middleware) + navigation/context, then contract, avenants,
    # missions, deadline changes.
    with django_assert_max_num_queries(16):
        coordinator_client.get(url("aci_contract"))


def test_missions_export(coordinator_client, contract):
    response = coordinator_client.get(url("aci_missions") + "?_export=csv")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Accès aux soins" in body and "en retard" in body


# --- Dashboard block ------------------------------------------------------------------------------------


def test_dashboard_block_lists_late_and_at_risk_deadlines(coordinator_client, coordinator, association, contract):
    with scope(association=association):
        mission = contract.missions.get(mission_type__code="parcours")
        services.set_mission_status(mission, coordinator, "started", started_on=contract.signed_on + timedelta(30))
        services.move_deadline(mission, coordinator, DeadlineKind.DEPLOYMENT, date.today() + timedelta(days=20),
                               reason="Accord CPAM")
    html = coordinator_client.get(url("dashboard")).content.decode()
    assert "Échéances ACI" in html
    assert 'id="aci-deadline-alerts"' in html
    assert "à moins de 60 jours" in html and "en retard" in html


def test_dashboard_block_without_contract(coordinator_client, association):
    html = coordinator_client.get(url("dashboard")).content.decode()
    assert "Aucun contrat ACI enregistré." in html
