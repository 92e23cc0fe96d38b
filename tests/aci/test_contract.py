"""Services and selectors of the ACI contract: creation with its missions, avenants, mission status,
deadlines computed from the signature and moved by avenant (history kept), dates in the wrong order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django_scopes import scope

from associations.errors import ServiceError
from associations.models import AuditLog
from associations.registries import audit_actions
from missions import selectors, services
from missions.models import (
    ACIVersion,
    ContractMission,
    DeadlineChange,
    DeadlineKind,
    MissionKind,
    MissionStatus,
    MissionType,
)
from tests.aci.conftest import ensure_aci_reference

pytestmark = pytest.mark.django_db


def _data(**overrides):
    ensure_aci_reference()
    data = {"version": ACIVersion.objects.get(code="avenant-2"), "number": "C-1",
            "signed_on": date.today() - relativedelta(years=2), "cpam_name": "CPAM de la Gironde",
            "ars_name": "ARS Nouvelle-Aquitaine", "cpts_signatory": "Dr Martin", "size_override": "",
            "size_override_reason": "", "achievement_cap": 100}
    data.update(overrides)
    return data


def test_create_contract_has_every_socle_mission_and_the_chosen_complementary(association, coordinator):
    data = _data()
    qualite = MissionType.objects.get(version=data["version"], code="qualite")
    with scope(association=association):
        contract = services.create_contract(association, coordinator, data, complementary=[qualite])
        codes = list(contract.missions.values_list("mission_type__code", flat=True))
        assert codes == ["acces", "parcours", "prevention", "crise", "qualite"]
        assert AuditLog.objects.filter(association=association, action="aci.contract_create").count() == 1


def test_create_contract_without_complementary_still_has_socle(association, coordinator):
    with scope(association=association):
        contract = services.create_contract(association, coordinator, _data())
        kinds = set(contract.missions.values_list("mission_type__kind", flat=True))
        assert kinds == {MissionKind.SOCLE}
        assert contract.missions.count() == 4


def test_socle_mission_passed_as_complementary_is_refused(association, coordinator):
    data = _data()
    acces = MissionType.objects.get(version=data["version"], code="acces")
    with scope(association=association), pytest.raises(ServiceError) as error:
        services.create_contract(association, coordinator, data, complementary=[acces])
    assert error.value.field == "complementary"


def test_size_override_needs_a_reason(association, coordinator):
    with scope(association=association), pytest.raises(ServiceError) as error:
        services.create_contract(association, coordinator, _data(size_override="T2"))
    assert error.value.field == "size_override_reason"
    assert "motif" in error.value.message


def test_duplicate_contract_date_refused(association, coordinator, contract):
    with scope(association=association), pytest.raises(ServiceError) as error:
        services.create_contract(association, coordinator, _data(signed_on=contract.signed_on))
    assert error.value.field == "signed_on"


def test_update_contract_adds_a_complementary_and_keeps_the_version(association, coordinator):
    data = _data()
    with scope(association=association):
        contract = services.create_contract(association, coordinator, data)
        qualite = MissionType.objects.get(version=data["version"], code="qualite")
        services.update_contract(contract, coordinator, {"cpam_name": "CPAM de Paris"}, add_complementary=[qualite])
        contract.refresh_from_db()
        assert contract.cpam_name == "CPAM de Paris"
        assert contract.missions.count() == 5
        other = ACIVersion.objects.get(code="aci-2019")
        with pytest.raises(ServiceError) as error:
            services.update_contract(contract, coordinator, {"version": other})
        assert error.value.field == "version"


def test_avenant_numbered_and_dated_after_the_contract(association, coordinator, contract):
    with scope(association=association):
        first = services.add_avenant(contract, coordinator, signed_on=contract.signed_on + timedelta(days=400),
                                     summary="Report du démarrage de la mission parcours")
        second = services.add_avenant(contract, coordinator, signed_on=contract.signed_on + timedelta(days=500),
                                      summary="Nouvelle cible")
        assert (first.number, second.number) == (1, 2)
        with pytest.raises(ServiceError) as error:
            services.add_avenant(contract, coordinator, signed_on=contract.signed_on - timedelta(days=1),
                                 summary="Avant le contrat")
        assert error.value.field == "signed_on"
        assert "avant le contrat" in error.value.message
        assert contract.avenants.count() == 2


def test_status_dates(association, coordinator, contract):
    with scope(association=association):
        mission = contract.missions.get(mission_type__code="acces")
        started = contract.signed_on + timedelta(days=100)
        deployed = contract.signed_on + timedelta(days=300)
        services.set_mission_status(mission, coordinator, MissionStatus.STARTED, started_on=started)
        mission.refresh_from_db()
        assert (mission.status, mission.started_on, mission.deployed_on) == ("started", started, None)
        services.set_mission_status(mission, coordinator, MissionStatus.DEPLOYED, started_on=started,
                                    deployed_on=deployed)
        mission.refresh_from_db()
        assert (mission.status, mission.deployed_on) == ("deployed", deployed)
        services.set_mission_status(mission, coordinator, MissionStatus.NOT_STARTED)
        mission.refresh_from_db()
        assert (mission.started_on, mission.deployed_on) == (None, None)


def test_status_dates_in_the_wrong_order_refused_in_french(association, coordinator, contract):
    with scope(association=association):
        mission = contract.missions.get(mission_type__code="acces")
        with pytest.raises(ServiceError) as error:
            services.set_mission_status(mission, coordinator, MissionStatus.DEPLOYED,
                                        started_on=contract.signed_on + timedelta(days=300),
                                        deployed_on=contract.signed_on + timedelta(days=100))
        assert error.value.field == "deployed_on"
        assert "ne peut pas précéder le démarrage" in error.value.message
        with pytest.raises(ServiceError) as error:
            services.set_mission_status(mission, coordinator, MissionStatus.STARTED,
                                        started_on=contract.signed_on - timedelta(days=1))
        assert "antérieure à la signature" in error.value.message
        with pytest.raises(ServiceError) as error:
            services.set_mission_status(mission, coordinator, MissionStatus.STARTED)
        assert error.value.field == "started_on"
        mission.refresh_from_db()
        assert mission.status == MissionStatus.NOT_STARTED


def test_deadlines_computed_from_signature_and_catalogue_or_override(association, coordinator, contract):
    with scope(association=association):
        rows = {r.mission.mission_type.code: r for r in selectors.mission_rows(contract)}
        assert rows["acces"].start.due == contract.signed_on + relativedelta(months=6)
        assert rows["acces"].deployment.due == contract.signed_on + relativedelta(months=18)
        # Signed 4 years 3 months ago, nothing reached: late.
        assert rows["acces"].start.state == "late"
        # Complémentaires: the contract sets the delay.
        assert rows["qualite"].start.due is None and rows["qualite"].start.state == "none"
        mission = rows["qualite"].mission
        services.update_mission(mission, coordinator, {"start_months": 12, "deployment_months": 60})
        row = selectors.mission_row(ContractMission.objects.get(pk=mission.pk), contract.signed_on)
        assert row.start.due == contract.signed_on + relativedelta(months=12)
        assert row.deployment.state == "upcoming"  # 60 months, 51 elapsed: 9 months left


def test_deadline_moved_by_avenant_keeps_the_history(association, coordinator, contract):
    with scope(association=association):
        mission = contract.missions.get(mission_type__code="parcours")
        avenant = services.add_avenant(contract, coordinator, signed_on=contract.signed_on + timedelta(days=200),
                                       summary="Report du parcours")
        original = contract.signed_on + relativedelta(months=24)
        first = date.today() + timedelta(days=30)
        second = date.today() + timedelta(days=120)
        services.move_deadline(mission, coordinator, DeadlineKind.DEPLOYMENT, first, avenant=avenant)
        services.move_deadline(mission, coordinator, DeadlineKind.DEPLOYMENT, second, reason="Accord CPAM")
        row = selectors.mission_row(ContractMission.objects.get(pk=mission.pk), contract.signed_on)
        assert row.deployment.original_due == original
        assert row.deployment.due == second
        assert row.deployment.state == "upcoming"
        assert [c.due_on for c in row.deployment.history] == [first, second]
        assert row.deployment.history[0].avenant == avenant
        assert DeadlineChange.objects.filter(mission=mission).count() == 2
        assert AuditLog.objects.filter(association=association, action="aci.deadline_move").count() == 2


def test_deadline_move_refuses_wrong_order_and_missing_reason(association, coordinator, contract, other_contract,
                                                             other_association):
    with scope(association=association):
        mission = contract.missions.get(mission_type__code="parcours")
        with pytest.raises(ServiceError) as error:
            services.move_deadline(mission, coordinator, DeadlineKind.START, contract.signed_on, reason="x")
        assert error.value.field == "due_on" and "suivre la signature" in error.value.message
        with pytest.raises(ServiceError) as error:  # start after the (current) deployment deadline
            services.move_deadline(mission, coordinator, DeadlineKind.START,
                                   contract.signed_on + relativedelta(months=30), reason="x")
        assert "après le déploiement complet" in error.value.message
        with pytest.raises(ServiceError) as error:
            services.move_deadline(mission, coordinator, DeadlineKind.START,
                                   contract.signed_on + relativedelta(months=13))
        assert error.value.field == "reason"
    with scope(association=other_association):
        foreign = services.add_avenant(other_contract, coordinator, signed_on=other_contract.signed_on,
                                       summary="Autre CPTS")
    with scope(association=association), pytest.raises(ServiceError) as error:
        services.move_deadline(mission, coordinator, DeadlineKind.START,
                               contract.signed_on + relativedelta(months=13), avenant=foreign)
    assert error.value.field == "avenant"
    with scope(association=association):
        assert not DeadlineChange.objects.filter(association=association).exists()


def test_referent_of_another_association_refused(association, coordinator, contract, other_association):
    from tests.factories import make_member

    stranger = make_member(other_association, first_name="Eve", last_name="Ailleurs")
    with scope(association=association):
        mission = contract.missions.first()
        with pytest.raises(ServiceError) as error:
            services.update_mission(mission, coordinator, {"referent": stranger})
        assert error.value.field == "referent"


def test_audit_actions_registered():
    for code in ("aci.contract_create", "aci.contract_update", "aci.avenant_create", "aci.mission_update",
                 "aci.mission_status", "aci.deadline_move"):
        assert code in audit_actions


def test_alert_deadlines_and_dashboard_block_selector(association, coordinator, contract):
    with scope(association=association):
        _, alerts = selectors.alert_deadlines(association)
        # acces, parcours, prevention, crise: start and deployment late (4 × 2); complémentaires: none.
        assert len(alerts) == 8
        assert all(d.state == "late" for _, d in alerts)
