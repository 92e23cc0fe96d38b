"""The ACI demo data (``indicators.demo``): the T3 demo association gets a contract signed 4 years and 3 months
ago with its six missions, 25–30 indicators with their values, ~80 actions and evidence files; a second run
changes nothing; other associations get nothing; achievement can be computed for most indicator-years."""

from __future__ import annotations

import os
from collections import Counter
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django_scopes import scope, scopes_disabled

from associations.models import Association
from associations.registries import demo_loaders
from indicators import demo
from indicators.achievement import achievement
from indicators.models import Evidence, Feed, Indicator, IndicatorValue, TargetRevision
from missions import calendar
from missions.models import Action, ActionParticipation, Avenant, Contract, ContractMission, DeadlineChange
from tests.aci.conftest import ensure_aci_reference
from tests.factories import AssociationFactory, ensure_professions

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_association(db, coordinator):
    ensure_aci_reference()
    ensure_professions()
    return AssociationFactory(name="CPTS Val de Loire Sud", slug=demo.DEMO_SLUG, population=120_000)


def state(association) -> dict:
    """Every demo row of the association, as comparable values."""
    with scope(association=association):
        return {
            "contracts": list(Contract.objects.filter(association=association).values_list()),
            "missions": list(ContractMission.objects.filter(association=association).values_list()),
            "avenants": list(Avenant.objects.filter(association=association).values_list()),
            "deadlines": list(DeadlineChange.objects.filter(association=association).values_list()),
            "indicators": list(Indicator.objects.filter(association=association).values_list()),
            "values": list(IndicatorValue.objects.filter(association=association).values_list()),
            "revisions": list(TargetRevision.objects.filter(association=association).values_list()),
            "actions": list(Action.objects.filter(association=association).values_list()),
            "participations": list(ActionParticipation.objects.filter(association=association).values_list()),
            "evidence": list(Evidence.objects.filter(association=association).values_list()),
        }


def test_the_loader_is_registered():
    assert demo_loaders.get("aci").load is demo.load


def test_the_demo_contract_and_a_second_run_changes_nothing(demo_association, coordinator, settings):
    association = demo_association
    today = date.today()
    with scope(association=association):
        summary = demo.load(association, coordinator)
    assert summary.startswith("contrat ACI signé le ") and "6 missions" in summary
    first = state(association)
    with scope(association=association):
        assert demo.load(association, coordinator) == summary
    assert state(association) == first

    with scope(association=association):
        contract = Contract.objects.get(association=association)
        assert contract.signed_on == today - relativedelta(years=4, months=3)
        assert (contract.version.code, contract.cpam_name, contract.ars_name, contract.size) == (
            "avenant-2", "CPAM d'Indre-et-Loire", "ARS Centre-Val de Loire", "T3")
        assert contract.year_of(today).number == 5
        assert contract.document.read(5) == b"%PDF-"

        missions = {m.mission_type.code: m for m in ContractMission.objects.filter(association=association)
                    .select_related("mission_type")}
        assert set(missions) == {"acces", "parcours", "prevention", "crise", "qualite", "accompagnement"}
        for code in ("acces", "prevention", "crise"):  # socle missions started and deployed in time
            mission = missions[code]
            start_due = calendar.due_date(contract.signed_on, mission.mission_type.start_months)
            deploy_due = calendar.due_date(contract.signed_on, mission.mission_type.deployment_months)
            assert calendar.deadline_state(start_due, mission.started_on, today) == "met"
            assert calendar.deadline_state(deploy_due, mission.deployed_on, today) == "met"
        # The parcours was deployed after its catalogue deadline, within the one the avenant set.
        parcours = missions["parcours"]
        change = DeadlineChange.objects.get(association=association)
        assert (change.mission, change.kind, change.avenant.number) == (parcours, "deployment", 1)
        catalogue_due = calendar.due_date(contract.signed_on, parcours.mission_type.deployment_months)
        assert parcours.deployed_on > catalogue_due and parcours.deployed_on <= change.due_on
        # The complémentaire "accompagnement" started late and is not deployed yet.
        late = missions["accompagnement"]
        assert late.status == "started" and late.deployed_on is None
        assert calendar.deadline_state(calendar.due_date(contract.signed_on, late.start_months), late.started_on,
                                       today) == "met_late"
        assert TargetRevision.objects.filter(association=association, avenant__number=1).count() == 1

        indicators = list(Indicator.objects.filter(association=association).select_related("feed_action_type"))
        assert 25 <= len(indicators) <= 30
        assert all(i.code and i.label for i in indicators)
        assert len({i.code for i in indicators}) == len(indicators)
        assert len({i.mission_id for i in indicators}) == 6
        assert sum(1 for i in indicators if i.template_id) >= 20  # wordings of the template library
        fed = [i for i in indicators if i.feed != Feed.MANUAL]
        assert len(fed) >= 4 and all(i.feed_action_type for i in fed)
        sein = IndicatorValue.objects.get(association=association, indicator__code="PRE-01", year=5)
        assert (sein.baseline, sein.target) == (Decimal("62.89"), Decimal("69.00"))
        ald = {v.year: v for v in IndicatorValue.objects.filter(association=association, indicator__code="ACC-01")}
        assert ald[4].realised < ald[1].realised < ald[1].baseline  # patients ALD sans MT going down

        values = list(IndicatorValue.objects.filter(association=association))
        current = [v for v in values if v.year == 5]
        assert len(current) == len(indicators) and all(v.target is not None for v in current)
        assert 3 <= sum(1 for v in current if v.realised is not None) <= 8
        assert all(v.measured_on and v.entered_by == coordinator for v in values if v.realised is not None)
        assert all(v.measured_on <= today for v in values if v.measured_on)

        actions = list(Action.objects.filter(association=association).select_related("action_type"))
        assert 70 <= len(actions) <= 90
        assert len({a.mission_id for a in actions}) == 6 and len({a.action_type_id for a in actions}) >= 7
        assert all(contract.year_of(a.date) is not None and a.date < today for a in actions)
        participations = ActionParticipation.objects.filter(association=association)
        assert participations.values("action").distinct().count() == len(actions)
        assert participations.filter(profession__code="medecin-generaliste").exists()

        evidence = list(Evidence.objects.filter(association=association))
        assert 40 <= len(evidence) <= 120
        assert any(e.value_id for e in evidence) and any(e.action_id for e in evidence)
        for item in evidence[:5]:
            assert item.file.name.startswith(f"associations/{association.pk}/livrables/")
            with item.file.open("rb") as handle:
                content = handle.read()
            assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
        # Some past values have no evidence yet: the checklist has something to show.
        with_evidence = {e.value_id for e in evidence if e.value_id}
        assert any(v.pk not in with_evidence for v in values if v.realised is not None and v.year < 5)

        achievements = known_achievements(contract, indicators, values, actions)
    assert sum(achievements) / len(achievements) >= 0.9  # past years: achievement computable nearly everywhere


def known_achievements(contract, indicators, values, actions) -> list[bool]:
    """For every indicator-year of the past contract years, whether its achievement is computable (the
    realised value of an indicator fed by actions is counted from the actions of its type in that year)."""
    counts, participants = Counter(), Counter()
    per_action = {}
    for row in ActionParticipation.objects.filter(association=contract.association).values("action", "count"):
        per_action[row["action"]] = per_action.get(row["action"], 0) + row["count"]
    for action in actions:
        year = contract.year_of(action.date).number
        counts[(action.action_type_id, year)] += 1
        participants[(action.action_type_id, year)] += per_action.get(action.pk, 0)
    by_pk = {i.pk: i for i in indicators}
    known = []
    for value in values:
        if value.year >= 5:
            continue
        indicator = by_pk[value.indicator_id]
        realised = value.realised
        if indicator.feed == Feed.ACTION_COUNT:
            realised = Decimal(counts[(indicator.feed_action_type_id, value.year)])
        elif indicator.feed == Feed.PARTICIPANTS:
            realised = Decimal(participants[(indicator.feed_action_type_id, value.year)])
        result = achievement(unit=indicator.unit, direction=indicator.direction, baseline=value.baseline,
                             target=value.target, realised=realised, cap=contract.achievement_cap)
        known.append(result.known)
    return known


def test_other_associations_get_no_demo_contract(association, coordinator):
    ensure_aci_reference()
    with scope(association=association):
        assert demo.load(association, coordinator) == ""
        assert not Contract.objects.filter(association=association).exists()


def test_seed_demo_loads_the_contract_once(settings):
    ensure_aci_reference()
    ensure_professions()
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        vls = Association.objects.get(slug=demo.DEMO_SLUG)
        plateau = Association.objects.get(slug="plateau-des-sources")
    first = state(vls)
    assert first["contracts"] and not state(plateau)["contracts"]
    with scope(association=vls):
        assert ContractMission.objects.filter(association=vls, referent__isnull=False).count() == 6
    files = sorted(os.path.join(folder, name) for folder, _dirs, names in os.walk(settings.MEDIA_ROOT)
                   for name in names)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "CPTS Val de Loire Sud : contrat ACI signé le" in out.getvalue()
    assert state(vls) == first
    assert sorted(os.path.join(folder, name) for folder, _dirs, names in os.walk(settings.MEDIA_ROOT)
                  for name in names) == files
