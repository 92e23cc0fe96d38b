"""Screens of the actions registry: list (filters, sort, export), form (participants per profession, French
errors next to the field, nothing partial saved), action page, month calendar. Coordinator / viewer /
outsider in each area."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django_scopes import scope
from openpyxl import load_workbook

from associations.models import AuditLog, Profession
from missions import services_actions as services
from missions.models import Action, ActionParticipation, ActionType
from tests.aci.conftest import ensure_aci_reference, make_contract
from tests.factories import ensure_professions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reference(db):
    ensure_aci_reference()
    ensure_professions()


@pytest.fixture
def missions(contract):
    with scope(association=contract.association):
        return list(contract.missions.select_related("contract", "mission_type").order_by("mission_type__order"))


@pytest.fixture
def types():
    return list(ActionType.objects.order_by("order"))


@pytest.fixture
def nurse():
    return Profession.objects.get(code="infirmier")


def _create(association, user, mission, action_type, day, title, counts=None):
    with scope(association=association):
        return services.create_action(association, user, {
            "mission": mission, "action_type": action_type, "title": title, "date": day}, counts or {})


@pytest.fixture
def actions(association, coordinator, contract, missions, types, nurse):
    years = contract.years
    return [
        _create(association, coordinator, missions[0], types[0], years[0].start + timedelta(days=5), "RPC diabète",
                {nurse.pk: 4, None: 2}),
        _create(association, coordinator, missions[1], types[1], years[1].start + timedelta(days=5),
                "Journée dépistage", {None: 30}),
        _create(association, coordinator, missions[1], types[0], years[3].start + timedelta(days=2), "RPC BPCO"),
    ]


def _url(name, association, **kwargs):
    return reverse(name, kwargs={"association_slug": association.slug, **kwargs})


def _post_data(mission, action_type, day, **extra):
    return {"title": "Soirée de formation", "mission": mission.pk, "action_type": action_type.pk,
            "date": day.isoformat(), "place": "Salle polyvalente", "partners": "", "description": "", **extra}


# --- List ------------------------------------------------------------------------------------------------


def test_list_shows_the_actions_and_the_totals_per_year(coordinator_client, association, actions):
    response = coordinator_client.get(_url("aci_actions", association))
    page = response.content.decode()
    assert response.status_code == 200
    for action in actions:
        assert action.title in page
    assert 'id="summary-types"' in page and 'id="summary-professions"' in page
    assert "Nouvelle action" in page


@pytest.mark.parametrize("query,expected", [
    ("type", {"RPC diabète", "RPC BPCO"}),
    ("mission", {"Journée dépistage", "RPC BPCO"}),
    ("year", {"Journée dépistage"}),
    ("q", {"RPC BPCO"}),
])
def test_filters(coordinator_client, association, actions, missions, types, query, expected):
    params = {"type": {"action_type": types[0].pk}, "mission": {"mission": missions[1].pk}, "year": {"year": 2},
              "q": {"q": "bpco"}}[query]
    table = coordinator_client.get(_url("aci_actions", association), params).context["table"]
    assert {row.record.title for row in table.rows} == expected


def test_a_mission_of_another_association_in_the_filter_shows_an_error_and_no_rows(
        coordinator_client, association, other_association, actions):
    other = make_contract(other_association)
    with scope(association=other_association):
        foreign = other.missions.first()
    response = coordinator_client.get(_url("aci_actions", association), {"mission": foreign.pk})
    assert response.status_code == 200
    assert len(response.context["table"].rows) == 0
    assert response.context["filter"].errors["mission"]


def test_sort_by_participants(coordinator_client, association, actions):
    table = coordinator_client.get(_url("aci_actions", association), {"sort": "-participants"}).context["table"]
    assert [row.record.title for row in table.rows] == ["Journée dépistage", "RPC diabète", "RPC BPCO"]


def test_csv_and_xlsx_exports_hold_the_filtered_rows(coordinator_client, association, actions, types):
    response = coordinator_client.get(_url("aci_actions", association), {"_export": "csv",
                                                                         "action_type": types[0].pk})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "RPC diabète" in text and "RPC BPCO" in text and "Journée dépistage" not in text
    assert "Participants" in text.splitlines()[0]
    response = coordinator_client.get(_url("aci_actions", association), {"_export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    titles = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert titles == {"RPC diabète", "Journée dépistage", "RPC BPCO"}


def test_the_viewer_reads_without_buttons_to_write(client, users, association, actions):
    client.force_login(users["viewer"])
    page = client.get(_url("aci_actions", association)).content.decode()
    assert "RPC diabète" in page and "Nouvelle action" not in page
    detail = client.get(_url("aci_action_detail", association, pk=actions[0].pk)).content.decode()
    assert _url("aci_action_edit", association, pk=actions[0].pk) not in detail
    assert _url("aci_action_delete", association, pk=actions[0].pk) not in detail
    assert client.get(_url("aci_action_create", association)).status_code == 403


def test_without_a_contract_the_list_says_so(coordinator_client, association):
    page = coordinator_client.get(_url("aci_actions", association)).content.decode()
    assert 'id="no-contract"' in page and "Nouvelle action" not in page


# --- Form --------------------------------------------------------------------------------------------


def test_the_form_asks_one_count_per_profession_plus_others(coordinator_client, association, contract):
    response = coordinator_client.get(_url("aci_action_create", association))
    page = response.content.decode()
    assert response.status_code == 200
    for profession in Profession.objects.filter(active=True):
        assert f'name="participants_{profession.pk}"' in page
    assert 'name="participants_autres"' in page
    assert f"{contract.years[0].start:%d/%m/%Y}" in page  # the contract years are in the date's help


def test_create_stores_the_action_and_its_counts(coordinator_client, association, contract, missions, types, nurse):
    day = contract.years[2].start + timedelta(days=3)
    response = coordinator_client.post(_url("aci_action_create", association), _post_data(
        missions[2], types[1], day, **{f"participants_{nurse.pk}": "6", "participants_autres": "2"}))
    with scope(association=association):
        action = Action.objects.get()
        counts = dict(action.participations.values_list("profession_id", "count"))
    assert response.status_code == 302
    assert response["Location"] == _url("aci_action_detail", association, pk=action.pk)
    assert action.date == day and action.mission == missions[2] and action.created_by.email.startswith("coordinator")
    assert counts == {nurse.pk: 6, None: 2}


def test_the_date_can_be_prefilled_from_the_calendar(coordinator_client, association, contract):
    form = coordinator_client.get(_url("aci_action_create", association), {"date": "2024-05-17"}).context["form"]
    assert form.initial["date"] == date(2024, 5, 17)


def test_a_date_outside_the_contract_is_refused_next_to_the_field(coordinator_client, association, contract,
                                                                  missions, types, nurse):
    day = contract.signed_on - timedelta(days=1)
    response = coordinator_client.post(_url("aci_action_create", association), _post_data(
        missions[0], types[0], day, **{f"participants_{nurse.pk}": "6"}))
    assert response.status_code == 400
    errors = response.context["form"].errors["date"]
    assert "en dehors des cinq années du contrat" in errors[0]
    assert f"{contract.years[0].start:%d/%m/%Y}" in errors[0]
    assert 'id="id_date_errors"' in response.content.decode()
    with scope(association=association):
        assert not Action.objects.exists() and not ActionParticipation.objects.exists()


@pytest.mark.parametrize("field,value,message", [
    ("participants_autres", "-3", "négatif"),
    ("participants_autres", "trois", "nombre entier"),
    ("date", "31/02/2025", "date valide"),
    ("title", "", "obligatoire"),
])
def test_bad_input_gets_a_french_message_and_saves_nothing(coordinator_client, association, contract, missions,
                                                           types, field, value, message):
    data = _post_data(missions[0], types[0], contract.years[1].start)
    data[field] = value
    response = coordinator_client.post(_url("aci_action_create", association), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    with scope(association=association):
        assert not Action.objects.exists()
        assert not AuditLog.objects.filter(action__startswith="aci_action").exists()


def test_a_mission_of_another_association_is_refused_by_the_form(coordinator_client, association, contract, types,
                                                                 other_association):
    other = make_contract(other_association)
    with scope(association=other_association):
        foreign = other.missions.first()
    response = coordinator_client.post(_url("aci_action_create", association),
                                       _post_data(foreign, types[0], contract.years[1].start))
    assert response.status_code == 400 and "mission" in response.context["form"].errors
    with scope(association=other_association):
        assert not Action.objects.exists()


def test_edit_is_prefilled_and_replaces_the_counts(coordinator_client, association, contract, actions, nurse):
    action = actions[0]
    form = coordinator_client.get(_url("aci_action_edit", association, pk=action.pk)).context["form"]
    assert form[f"participants_{nurse.pk}"].value() == 4
    assert form["participants_autres"].value() == 2
    with scope(association=association):
        mission = action.mission
    response = coordinator_client.post(_url("aci_action_edit", association, pk=action.pk), _post_data(
        mission, action.action_type, action.date, title="RPC diabète (2e séance)", participants_autres="9"))
    assert response.status_code == 302
    with scope(association=association):
        action.refresh_from_db()
        assert action.title == "RPC diabète (2e séance)"
        assert dict(action.participations.values_list("profession_id", "count")) == {None: 9}


def test_another_associations_action_is_a_404(coordinator_client, association, other_association, users, types):
    other = make_contract(other_association)
    with scope(association=other_association):
        mission = other.missions.select_related("contract").first()
    foreign = _create(other_association, users["outsider"], mission, types[0], other.years[1].start, "Chez eux")
    for name in ("aci_action_detail", "aci_action_edit"):
        assert coordinator_client.get(_url(name, association, pk=foreign.pk)).status_code == 404
    assert coordinator_client.post(_url("aci_action_delete", association, pk=foreign.pk)).status_code == 404
    with scope(association=other_association):
        assert Action.objects.filter(pk=foreign.pk).exists()


# --- Detail and delete -----------------------------------------------------------------------------------


def test_detail_shows_counts_and_the_contract_year(coordinator_client, association, contract, actions, nurse):
    response = coordinator_client.get(_url("aci_action_detail", association, pk=actions[0].pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert _url("aci_action_delete", association, pk=actions[0].pk) in page
    assert nurse.label in page and "Autres participants" in page
    assert contract.years[0].label in page
    assert response.context["total"] == 6


def test_delete_redirects_to_the_list(coordinator_client, association, actions):
    response = coordinator_client.post(_url("aci_action_delete", association, pk=actions[2].pk))
    assert response.status_code == 302 and response["Location"] == _url("aci_actions", association)
    with scope(association=association):
        assert not Action.objects.filter(pk=actions[2].pk).exists()


# --- Calendar -------------------------------------------------------------------------------------------


def test_the_month_calendar_is_a_table_with_the_days_actions(coordinator_client, association, actions):
    action = actions[1]
    response = coordinator_client.get(_url("aci_calendar", association), {"mois": f"{action.date:%Y-%m}"})
    page = response.content.decode()
    assert response.status_code == 200
    month = response.context["month"]
    assert month.first == action.date.replace(day=1) and month.count == 1
    assert page.count('<th scope="col"') == 7  # one header per weekday
    assert _url("aci_action_detail", association, pk=action.pk) in page
    previous = (action.date.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert f"?mois={previous}" in page
    days = [day for week in month.weeks for day in week]
    assert all(len(week) == 7 for week in month.weeks)
    assert [a.title for d in days if d.day == action.date for a in d.actions] == ["Journée dépistage"]
    # The phone list shows the same day.
    assert [d.day for d in month.days_with_actions] == [action.date]


@pytest.mark.parametrize("value", ["", "2025-13", "n'importe", "2025"])
def test_a_bad_month_shows_this_month(coordinator_client, association, value):
    from django.utils import timezone

    response = coordinator_client.get(_url("aci_calendar", association), {"mois": value})
    assert response.status_code == 200
    assert response.context["month"].first == timezone.localdate().replace(day=1)


def test_december_links_to_january(coordinator_client, association):
    month = coordinator_client.get(_url("aci_calendar", association), {"mois": "2024-12"}).context["month"]
    assert month.next == date(2025, 1, 1) and month.previous == date(2024, 11, 1)


def test_detail_lists_the_actions_documents(coordinator_client, association, actions):
    from django.core.files.base import ContentFile

    from indicators.models import Evidence

    action = actions[0]
    with scope(association=association):
        evidence = Evidence(association=association, action=action, kind="sign_in", title="Feuille d'émargement",
                            date=action.date)
        evidence.file.save("emargement.pdf", ContentFile(b"%PDF-1.4"), save=True)
    page = coordinator_client.get(_url("aci_action_detail", association, pk=action.pk)).content.decode()
    assert "Feuille d&#x27;émargement" in page
    # Deleting is refused while the document is there (it proves the action to the CPAM).
    response = coordinator_client.post(_url("aci_action_delete", association, pk=action.pk), follow=True)
    assert "supprimez-les d&#x27;abord" in response.content.decode()
    with scope(association=association):
        assert Action.objects.filter(pk=action.pk).exists()
