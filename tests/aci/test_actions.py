"""The actions registry: services (dated inside the contract, counts per profession, audit, nothing partial),
totals per type and contract year, the ``.ics`` feed, and query counts that do not grow with the actions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope
from icalendar import Calendar

from associations.errors import ServiceError
from associations.models import AuditLog, Profession
from missions import selectors_actions as selectors
from missions import services_actions as services
from missions.models import Action, ActionParticipation, ActionType
from missions.views_actions import action_uid
from tests.aci.conftest import ensure_aci_reference, make_contract
from tests.factories import ensure_professions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reference(db):
    ensure_aci_reference()
    ensure_professions()


@pytest.fixture
def mission(contract):
    with scope(association=contract.association):
        return contract.missions.select_related("contract", "mission_type").order_by("mission_type__order").first()


@pytest.fixture
def rpc():
    return ActionType.objects.order_by("order").first()


@pytest.fixture
def other_type(rpc):
    return ActionType.objects.exclude(pk=rpc.pk).order_by("order").first()


@pytest.fixture
def professions():
    return {p.code: p for p in Profession.objects.filter(code__in=["medecin-generaliste", "infirmier"])}


def _data(mission, action_type, **overrides):
    data = {"mission": mission, "action_type": action_type, "title": "Réunion pluriprofessionnelle",
            "date": mission.contract.years[1].start + timedelta(days=10), "place": "Maison de santé",
            "partners": "CH de la ville", "description": ""}
    data.update(overrides)
    return data


def _create(association, user, mission, action_type, participations=None, **overrides):
    with scope(association=association):
        return services.create_action(association, user, _data(mission, action_type, **overrides),
                                      participations or {})


# --- Services ------------------------------------------------------------------------------------------


def test_create_stores_counts_per_profession_and_audits(association, coordinator, mission, rpc, professions):
    doctor, nurse = professions["medecin-generaliste"], professions["infirmier"]
    action = _create(association, coordinator, mission, rpc, {doctor.pk: 4, nurse.pk: 2, None: 1})
    with scope(association=association):
        counts = dict(ActionParticipation.objects.filter(action=action).values_list("profession_id", "count"))
        log = AuditLog.objects.get(action="aci_action.create")
    assert counts == {doctor.pk: 4, nurse.pk: 2, None: 1}
    assert action.created_by == coordinator
    assert log.target_id == str(action.pk) and log.actor == coordinator
    assert log.changes["participants"]["autres"] == 1


def test_zero_counts_are_not_stored(association, coordinator, mission, rpc, professions):
    action = _create(association, coordinator, mission, rpc, {professions["infirmier"].pk: 0, None: 0})
    with scope(association=association):
        assert not ActionParticipation.objects.filter(action=action).exists()


@pytest.mark.parametrize("offset,ok", [
    ("signature", True), ("last_day", True), ("before", False), ("after", False),
])
def test_the_action_is_dated_inside_one_of_the_five_contract_years(association, coordinator, mission, rpc,
                                                                   offset, ok):
    years = mission.contract.years
    day = {"signature": years[0].start, "last_day": years[-1].end,
           "before": years[0].start - timedelta(days=1), "after": years[-1].end + timedelta(days=1)}[offset]
    if ok:
        action = _create(association, coordinator, mission, rpc, {None: 1}, date=day)
        assert action.date == day
        return
    with pytest.raises(ServiceError) as error:
        _create(association, coordinator, mission, rpc, {None: 1}, date=day)
    assert error.value.field == "date" and error.value.code == "date_outside_contract"
    message = str(error.value)
    assert f"{day:%d/%m/%Y}" in message
    assert f"du {years[0].start:%d/%m/%Y} au {years[0].end:%d/%m/%Y}" in message  # names the contract years
    assert f"année 5 : du {years[4].start:%d/%m/%Y}" in message
    with scope(association=association):
        assert not Action.objects.exists()
        assert not ActionParticipation.objects.exists()
        assert not AuditLog.objects.filter(action__startswith="aci_action").exists()


def test_a_mission_of_another_association_is_refused(association, coordinator, other_association, rpc):
    other = make_contract(other_association)
    with scope(association=other_association):
        foreign = other.missions.first()
    with pytest.raises(ServiceError) as error, scope(association=association):
        services.create_action(association, coordinator, _data(foreign, rpc), {})
    assert error.value.field == "mission"
    with scope(association=other_association):
        assert not Action.objects.exists()


@pytest.mark.parametrize("counts,code", [
    ({None: -1}, "count_invalid"), ({None: 1.5}, "count_invalid"), ({None: 10**6}, "count_too_large"),
    ({987654: 3}, "profession_unknown"),
])
def test_bad_counts_are_refused_and_nothing_is_saved(association, coordinator, mission, rpc, counts, code):
    with pytest.raises(ServiceError) as error:
        _create(association, coordinator, mission, rpc, counts)
    assert error.value.code == code
    with scope(association=association):
        assert not Action.objects.exists()


def test_update_replaces_participations_and_records_the_changes(association, coordinator, mission, rpc, other_type,
                                                                professions):
    nurse = professions["infirmier"]
    action = _create(association, coordinator, mission, rpc, {nurse.pk: 2, None: 5})
    with scope(association=association):
        services.update_action(action, coordinator, _data(mission, other_type, title="RPC diabète"), {nurse.pk: 3})
        action.refresh_from_db()
        counts = dict(action.participations.values_list("profession_id", "count"))
        log = AuditLog.objects.get(action="aci_action.update")
    assert action.title == "RPC diabète" and action.action_type == other_type
    assert counts == {nurse.pk: 3}
    assert log.changes["title"] == ["Réunion pluriprofessionnelle", "RPC diabète"]
    assert log.changes["participants"] == [{"autres": 5, str(nurse.pk): 2}, {str(nurse.pk): 3}]


def test_update_outside_the_contract_changes_nothing(association, coordinator, mission, rpc):
    action = _create(association, coordinator, mission, rpc, {None: 5})
    with scope(association=association), pytest.raises(ServiceError):
        services.update_action(action, coordinator, _data(mission, rpc, date=date(1999, 1, 1), title="X"), {None: 1})
    with scope(association=association):
        stored = Action.objects.get(pk=action.pk)
        assert stored.title == "Réunion pluriprofessionnelle"
        assert list(stored.participations.values_list("count", flat=True)) == [5]


def test_delete_removes_the_action_and_its_participations(association, coordinator, mission, rpc):
    action = _create(association, coordinator, mission, rpc, {None: 5})
    with scope(association=association):
        services.delete_action(action, coordinator)
        assert not Action.objects.exists() and not ActionParticipation.objects.exists()
        log = AuditLog.objects.get(action="aci_action.delete")
    assert log.target_id == str(action.pk) and "Réunion pluriprofessionnelle" in log.target_label


def test_delete_is_refused_while_documents_are_attached(association, coordinator, mission, rpc):
    from django.core.files.base import ContentFile

    from indicators.models import Evidence

    action = _create(association, coordinator, mission, rpc, {None: 5})
    with scope(association=association):
        evidence = Evidence(association=association, action=action, kind="sign_in", title="Émargement",
                            date=action.date)
        evidence.file.save("emargement.pdf", ContentFile(b"%PDF-1.4"), save=True)
        with pytest.raises(ServiceError) as error:
            services.delete_action(action, coordinator)
        assert error.value.code == "has_documents"
        assert Action.objects.filter(pk=action.pk).exists()


# --- Totals (what indicators fed by actions count) ------------------------------------------------------


def test_totals_per_type_year_and_profession(association, coordinator, contract, mission, rpc, other_type,
                                             professions):
    nurse = professions["infirmier"]
    years = contract.years
    _create(association, coordinator, mission, rpc, {nurse.pk: 3, None: 1}, date=years[0].end)
    _create(association, coordinator, mission, rpc, {nurse.pk: 2}, date=years[1].start)
    _create(association, coordinator, mission, rpc, {}, date=years[1].start + timedelta(days=3))
    _create(association, coordinator, mission, other_type, {None: 7}, date=years[1].end)
    with scope(association=association):
        totals = selectors.action_totals(contract)
        summary = selectors.action_summary(contract, list(selectors.contract_missions(contract)))
    assert totals.actions_of_type(rpc.pk, 1) == 1
    assert totals.actions_of_type(rpc.pk, 2) == 2
    assert totals.actions_of_type(other_type.pk, 2, mission_id=mission.pk) == 1
    assert totals.actions_of_type(rpc.pk, 3) == 0
    assert totals.participants_in(1) == 4
    assert totals.participants_in(2) == 9
    assert totals.participants[(mission.pk, nurse.pk, 2)] == 2
    by_type = {row.label: row.cells for row in summary.by_type}
    assert by_type[rpc.label] == [1, 2, 0, 0, 0]
    by_profession = {row.label: row.total for row in summary.by_profession}
    assert by_profession == {nurse.label: 5, "Autres participants": 8}
    by_mission = {row.label: row.total for row in summary.by_mission}
    assert by_mission[str(mission.mission_type)] == 13


# --- The .ics feed -------------------------------------------------------------------------------------


def test_the_ics_feed_has_one_all_day_event_per_action(client, association, coordinator, users, mission, rpc):
    first = _create(association, coordinator, mission, rpc, {None: 12}, title="Journée prévention", place="Mairie")
    second = _create(association, coordinator, mission, rpc, {}, title="Soirée formation",
                     date=mission.contract.years[3].start)
    client.force_login(users["viewer"])  # read-only staff may download it
    url = reverse("aci_calendar_ics", args=[association.slug])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    feed = Calendar.from_ical(response.content)
    assert str(feed["X-WR-TIMEZONE"]) == "Europe/Paris"
    events = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}
    assert set(events) == {"Journée prévention", "Soirée formation"}
    event = events["Journée prévention"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert type(start) is date and start == first.date  # all day: a date, not a datetime
    assert end == first.date + timedelta(days=1)
    assert str(event["LOCATION"]) == "Mairie"
    assert "Participants : 12" in str(event["DESCRIPTION"])
    assert str(event["UID"]) == action_uid(first)
    assert events["Soirée formation"].decoded("DTSTART") == second.date
    # The UID is stable: the same on a second download, distinct per action.
    again = {str(e["SUMMARY"]): str(e["UID"]) for e in Calendar.from_ical(client.get(url).content).walk("VEVENT")}
    assert again == {name: str(e["UID"]) for name, e in events.items()}
    assert len(set(again.values())) == 2


def test_the_ics_feed_holds_only_this_associations_actions(client, association, other_association, coordinator,
                                                           users, mission, rpc):
    _create(association, coordinator, mission, rpc, {}, title="Chez nous")
    other = make_contract(other_association)
    with scope(association=other_association):
        foreign = other.missions.first()
        services.create_action(other_association, users["outsider"], _data(foreign, rpc, title="Chez eux"), {})
    client.force_login(coordinator)
    feed = Calendar.from_ical(client.get(reverse("aci_calendar_ics", args=[association.slug])).content)
    assert [str(e["SUMMARY"]) for e in feed.walk("VEVENT")] == ["Chez nous"]


# --- Query counts: 10 vs 2 000 actions -------------------------------------------------------------------


def _bulk_actions(association, contract, n: int) -> None:
    """``n`` actions spread over the contract's missions, types and first four years, 2 participations each."""
    with scope(association=association):
        missions = list(contract.missions.all())
        types = list(ActionType.objects.all())
        nurse = Profession.objects.get(code="infirmier")
        start = contract.years[0].start
        span = (contract.years[3].end - start).days
        actions = Action.objects.bulk_create([
            Action(association=association, mission=missions[i % len(missions)], action_type=types[i % len(types)],
                   title=f"Action {i}", date=start + timedelta(days=(i * 7) % span), place="Salle")
            for i in range(n)
        ])
        ActionParticipation.objects.bulk_create(
            [ActionParticipation(association=association, action=a, profession=nurse, count=3) for a in actions]
            + [ActionParticipation(association=association, action=a, profession=None, count=1) for a in actions]
        )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("name,query", [
    ("aci_actions", ""), ("aci_actions", "?year=1&sort=participants"), ("aci_calendar", ""),
    ("aci_calendar_ics", ""), ("aci_actions", "?_export=csv"),
])
def test_query_counts_do_not_grow_with_the_actions(client, association, coordinator, contract, name, query):
    client.force_login(coordinator)
    url = reverse(name, args=[association.slug]) + query
    if name == "aci_calendar":
        url += f"?mois={contract.years[0].start:%Y-%m}"
    _bulk_actions(association, contract, 10)
    few = _queries(client, url)
    _bulk_actions(association, contract, 1990)
    many = _queries(client, url)
    print(f"{name}{query}: {few} queries with 10 actions, {many} with 2 000")
    assert few == many, f"{name}{query}: {few} queries with 10 actions, {many} with 2 000"


def test_totals_run_two_queries(association, contract):
    _bulk_actions(association, contract, 300)
    with scope(association=association), CaptureQueriesContext(connection) as queries:
        totals = selectors.action_totals(contract)
    assert len(queries) == 2  # grouped actions, grouped participations
    assert sum(totals.count.values()) == 300
    assert sum(totals.participants.values()) == 1200
