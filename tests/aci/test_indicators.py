"""Indicators, the grid's values, target revisions, evidence (services) and the grid / checklist selectors:
value rules with French messages, nothing partially saved, indicators fed by actions, query counts that
do not grow with indicators, years or actions."""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from associations.errors import ServiceError
from associations.models import AuditLog
from indicators import selectors, services
from indicators.models import Evidence, Feed, Indicator, IndicatorValue, TargetRevision
from missions.models import Action, ActionParticipation, ActionType, Avenant, ContractMission, IndicatorTemplate

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def mission_of(contract, code: str) -> ContractMission:
    return ContractMission.objects.get(contract=contract, mission_type__code=code)


def make_indicator(mission, *, label="Indicateur", unit="count", direction="up", weight=1, feed=Feed.MANUAL,
                   feed_action_type=None, order=0) -> Indicator:
    return Indicator.objects.create(association=mission.association, mission=mission, label=label, unit=unit,
                                    direction=direction, weight=Decimal(weight), feed=feed,
                                    feed_action_type=feed_action_type, order=order)


def set_values(indicator, year, baseline=None, target=None, realised=None) -> IndicatorValue:
    return IndicatorValue.objects.create(association=indicator.association, indicator=indicator, year=year,
                                         baseline=baseline, target=target, realised=realised)


@pytest.fixture
def scoped(association, contract):
    with scope(association=association):
        yield contract


@pytest.fixture
def acces(scoped):
    return mission_of(scoped, "acces")


# --- Indicators --------------------------------------------------------------------------------------


def test_create_from_a_template_fills_wording_unit_direction(acces, coordinator):
    template = IndicatorTemplate.objects.filter(mission_type=acces.mission_type).first()
    indicator = services.create_indicator(acces, coordinator, {"template": template, "weight": Decimal(2)})
    assert (indicator.label, indicator.unit, indicator.direction) == (template.label, template.unit,
                                                                      template.direction)
    assert indicator.order == 1
    assert AuditLog.objects.filter(action="indicator.create", target_id=str(indicator.pk)).exists()


def test_create_free_and_refusals(acces, scoped, coordinator):
    indicator = services.create_indicator(acces, coordinator, {"label": "Créneaux SNP", "unit": "count",
                                                                "direction": "up", "weight": Decimal(1)})
    assert indicator.source == "cpts"
    other_template = IndicatorTemplate.objects.exclude(mission_type=acces.mission_type).first()
    with pytest.raises(ServiceError) as error:
        services.create_indicator(acces, coordinator, {"template": other_template})
    assert error.value.field == "template"
    with pytest.raises(ServiceError, match="libellé"):
        services.create_indicator(acces, coordinator, {"unit": "count", "direction": "up"})
    rpc = ActionType.objects.first()
    with pytest.raises(ServiceError, match="Nombre"):
        services.create_indicator(acces, coordinator, {"label": "RPC", "unit": "rate", "direction": "up",
                                                       "feed": Feed.ACTION_COUNT, "feed_action_type": rpc})
    with pytest.raises(ServiceError) as error:
        services.create_indicator(acces, coordinator, {"label": "RPC", "unit": "count", "direction": "up",
                                                       "feed": Feed.ACTION_COUNT})
    assert error.value.field == "feed_action_type"
    assert Indicator.objects.count() == 1


def test_update_and_delete_indicator(acces, coordinator, settings):
    indicator = make_indicator(acces)
    services.update_indicator(indicator, coordinator, {"label": "Nouveau libellé", "weight": Decimal(3)})
    indicator.refresh_from_db()
    assert indicator.label == "Nouveau libellé" and indicator.weight == 3
    log = AuditLog.objects.get(action="indicator.update")
    assert log.changes["label"] == ["Indicateur", "Nouveau libellé"]
    services.add_evidence(acces.association, coordinator, SimpleUploadedFile("cr.pdf", PDF), kind="minutes",
                          title="CR", on=date.today(), indicator=indicator, year=1)
    path = Evidence.objects.get().file.path
    with pytest.raises(ServiceError):
        services.update_indicator(indicator, coordinator, {"label": " "})
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.delete_indicator(indicator, coordinator)
    assert not Indicator.objects.exists() and not Evidence.objects.exists()
    assert not os.path.exists(path)


# --- Values ------------------------------------------------------------------------------------------


def test_save_value_records_who_and_when(acces, coordinator):
    indicator = make_indicator(acces)
    value = services.save_value(indicator, 2, "realised", "1 200,5", coordinator)
    assert value.realised == Decimal("1200.50")
    assert value.measured_on == date.today() and value.entered_by == coordinator and value.entered_at
    assert AuditLog.objects.filter(action="indicator_value.realised").count() == 1
    services.save_value(indicator, 2, "realised", "1200,50", coordinator)  # unchanged: no new audit row
    assert AuditLog.objects.filter(action="indicator_value.realised").count() == 1
    value = services.save_value(indicator, 2, "realised", "", coordinator)
    assert value.realised is None and value.measured_on is None


@pytest.mark.parametrize(("unit", "raw", "message"), [
    ("count", "beaucoup", "n'est pas un nombre"),
    ("count", "12abc", "n'est pas un nombre"),
    ("rate", "101", "ne peut pas dépasser 100 %"),
    ("rate", "100,01 %", "ne peut pas dépasser 100 %"),
    ("boolean", "2", "« oui » (1) ou « non » (0)"),
    ("boolean", "peut-être", "« oui » ou « non »"),
    ("count", "-3", "négative"),
    ("count", "1,234", "Deux décimales"),
])
def test_bad_values_are_refused_in_french_and_nothing_is_saved(acces, coordinator, unit, raw, message):
    indicator = make_indicator(acces, unit=unit)
    with pytest.raises(ServiceError, match=re.escape(message)) as error:
        services.save_value(indicator, 1, "realised", raw, coordinator)
    assert error.value.field == "realised"
    assert not IndicatorValue.objects.exists() and not AuditLog.objects.filter(action__startswith="indicator_value")


def test_boolean_accepts_oui_non(acces, coordinator):
    indicator = make_indicator(acces, unit="boolean", direction="reach")
    assert services.save_value(indicator, 1, "realised", "Oui", coordinator).realised == 1
    assert services.save_value(indicator, 1, "realised", "non", coordinator).realised == 0
    assert services.save_value(indicator, 1, "realised", "1", coordinator).realised == 1


def test_rate_of_100_is_accepted(acces, coordinator):
    indicator = make_indicator(acces, unit="rate")
    assert services.save_value(indicator, 1, "target", "100 %", coordinator).target == 100
    assert services.save_value(indicator, 1, "baseline", "62,89", coordinator).baseline == Decimal("62.89")


def test_target_equal_to_baseline_is_accepted_but_achievement_is_undefined(acces, scoped, coordinator):
    indicator = make_indicator(acces)
    for field, raw in (("baseline", "50"), ("target", "50"), ("realised", "60")):
        services.save_value(indicator, 1, field, raw, coordinator)
    cell = selectors.refresh_cell(Indicator.objects.select_related("mission__contract").get(), 1).cell
    assert cell.achievement.percent is None and cell.undefined
    assert "objectif égal à la valeur initiale" in cell.achievement.problem


def test_realised_of_an_indicator_fed_by_actions_cannot_be_typed(acces, coordinator):
    indicator = make_indicator(acces, feed=Feed.ACTION_COUNT, feed_action_type=ActionType.objects.first())
    with pytest.raises(ServiceError, match="calculée"):
        services.save_value(indicator, 1, "realised", "3", coordinator)
    assert services.save_value(indicator, 1, "target", "10", coordinator).target == 10


def test_changing_a_target_keeps_the_old_one(acces, scoped, coordinator):
    indicator = make_indicator(acces)
    services.save_value(indicator, 3, "target", "800", coordinator)
    assert not TargetRevision.objects.exists()  # first target: nothing to keep
    avenant = Avenant.objects.create(association=scoped.association, contract=scoped, number=1,
                                     signed_on=date.today(), summary="Révision des objectifs")
    services.revise_target(indicator, 3, "850", coordinator, avenant=avenant)
    revision = TargetRevision.objects.get()
    assert (revision.old_target, revision.new_target, revision.avenant) == (800, 850, avenant)
    assert IndicatorValue.objects.get().target == 850
    assert AuditLog.objects.filter(action="indicator_value.target", changes__avenant=1).exists()


def test_year_outside_the_contract_is_refused(acces, coordinator):
    indicator = make_indicator(acces)
    with pytest.raises(ServiceError, match="années 1 à 5"):
        services.save_value(indicator, 6, "target", "1", coordinator)


# --- Evidence ----------------------------------------------------------------------------------------


def xlsx() -> bytes:
    return zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})


@pytest.mark.parametrize(("name", "data"), [
    ("emargement.pdf", PDF),
    ("capture.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
    ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
    ("donnees.xlsx", None),
    ("donnees.csv", "indicateur;valeur\nRPC;12\néquipe;3\n".encode()),
    ("protocole.docx", zip_bytes({"word/document.xml": b"<w/>"})),
    ("protocole.odt", zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})),
])
def test_accepted_evidence_types(acces, coordinator, name, data):
    indicator = make_indicator(acces)
    data = xlsx() if data is None else data
    evidence = services.add_evidence(acces.association, coordinator, SimpleUploadedFile(name, data),
                                     kind="sign_in", title="Émargement", on=date.today(), indicator=indicator,
                                     year=2)
    assert evidence.value.year == 2 and evidence.value.indicator == indicator
    assert evidence.file.name.startswith(f"associations/{acces.association_id}/livrables/")
    assert AuditLog.objects.filter(action="evidence.add").exists()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("virus.exe", b"MZ\x90\x00", "n'est pas accepté"),
    ("faux.pdf", b"MZ\x90\x00\x03\x00", "ne correspond pas à son extension .pdf"),
    ("image.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "ne correspond pas"),
    ("archive.xlsx", zip_bytes({"foo.txt": b"bar"}), "ne correspond pas"),
    ("binaire.csv", b"\x00\x01\x02\x03", "ne correspond pas"),
    ("vide.pdf", b"", "vide"),
    ("page.html", b"<html></html>", "n'est pas accepté"),
])
def test_refused_evidence_saves_nothing(acces, coordinator, settings, name, data, message):
    indicator = make_indicator(acces)
    with pytest.raises(ServiceError, match=message) as error:
        services.add_evidence(acces.association, coordinator, SimpleUploadedFile(name, data), kind="other",
                              title="X", on=date.today(), indicator=indicator, year=1)
    assert error.value.field == "file"
    assert not Evidence.objects.exists() and not IndicatorValue.objects.exists()
    assert not any(files for _d, _s, files in os.walk(settings.MEDIA_ROOT))


def test_evidence_over_10_mb_is_refused(acces, coordinator):
    indicator = make_indicator(acces)
    big = SimpleUploadedFile("gros.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ServiceError, match="10 Mo au maximum"):
        services.add_evidence(acces.association, coordinator, big, kind="other", title="X", on=date.today(),
                              indicator=indicator, year=1)


def test_evidence_on_an_action(acces, coordinator):
    action = Action.objects.create(association=acces.association, mission=acces, action_type=ActionType.objects.first(),
                                   title="RPC diabète", date=date.today())
    evidence = services.add_evidence(acces.association, coordinator, SimpleUploadedFile("cr.pdf", PDF),
                                     kind="minutes", title="CR", on=date.today(), action=action)
    assert evidence.action == action and evidence.value is None


# --- Grid and feeds ----------------------------------------------------------------------------------


def add_actions(mission, action_type, count: int, day: date, participants: int = 0) -> None:
    actions = Action.objects.bulk_create([
        Action(association=mission.association, mission=mission, action_type=action_type, title=f"Action {n}",
               date=day) for n in range(count)])
    if participants:
        ActionParticipation.objects.bulk_create([
            ActionParticipation(association=mission.association, action=a, count=participants) for a in actions])


def test_indicators_fed_by_actions(acces, scoped, coordinator):
    rpc, other = ActionType.objects.all()[:2]
    counted = make_indicator(acces, label="RPC", feed=Feed.ACTION_COUNT, feed_action_type=rpc)
    people = make_indicator(acces, label="Participants", feed=Feed.PARTICIPANTS, feed_action_type=rpc)
    years = scoped.years
    qualite = mission_of(scoped, "qualite")
    add_actions(acces, rpc, 3, years[0].start, participants=4)
    add_actions(qualite, rpc, 2, years[0].end, participants=5)  # every mission of the contract counts
    add_actions(acces, other, 7, years[0].start)  # another type: not counted
    add_actions(acces, rpc, 1, years[0].start - timedelta(days=1))  # before the contract: not counted
    add_actions(acces, rpc, 4, years[1].start)
    set_values(counted, 1, baseline=Decimal(0), target=Decimal(10))
    data = selectors.grid(scoped.association, today=years[1].end)
    rows = {row.indicator.pk: row for block in data.missions for row in block.rows}
    cells = rows[counted.pk].cells
    assert [c.realised for c in cells[:2]] == [5, 4] and all(c.computed for c in cells)
    assert cells[0].achievement.percent == 50
    assert cells[2].realised is None  # year 3 has not started (on that day): missing, not 0
    assert [c.realised for c in rows[people.pk].cells[:2]] == [3 * 4 + 2 * 5, 0]


def test_mission_achievement_is_weighted_and_says_what_is_missing(acces, scoped):
    one = make_indicator(acces, weight=1)
    two = make_indicator(acces, weight=3, direction="down")
    make_indicator(acces, weight=1)  # no value: missing
    set_values(one, 1, baseline=Decimal(0), target=Decimal(10), realised=Decimal(10))  # 100 %
    set_values(two, 1, baseline=Decimal(1200), target=Decimal(800), realised=Decimal(900))  # 75 %
    data = selectors.grid(scoped.association)
    block = next(b for b in data.missions if b.mission == acces)
    year1 = block.years[0].result
    assert year1.percent == Decimal("81.3") and year1.missing == 1 and year1.known == 2


def _grid_queries(association) -> int:
    with CaptureQueriesContext(connection) as queries:
        data = selectors.grid(association)
        for block in data.missions:
            for row in block.rows:
                for cell in row.cells:
                    cell.percent_display, cell.realised_display, str(block.mission)
    return len(queries)


def test_grid_queries_do_not_grow_with_indicators_years_or_actions(acces, scoped, coordinator):
    rpc = ActionType.objects.first()
    make_indicator(acces, feed=Feed.ACTION_COUNT, feed_action_type=rpc)
    set_values(make_indicator(acces), 1, Decimal(1), Decimal(2), Decimal(3))
    add_actions(acces, rpc, 10, scoped.years[0].start, participants=2)
    small = _grid_queries(scoped.association)
    for mission in ContractMission.objects.filter(contract=scoped):
        for n in range(30):
            indicator = make_indicator(mission, feed=Feed.PARTICIPANTS if n % 5 == 0 else Feed.MANUAL,
                                       feed_action_type=rpc if n % 5 == 0 else None)
            for year in range(1, 6):
                set_values(indicator, year, Decimal(1), Decimal(5), Decimal(3))
    add_actions(acces, rpc, 2000, scoped.years[1].start, participants=1)
    assert _grid_queries(scoped.association) == small == 5  # contract, missions, indicators, values, actions


def test_refresh_cell_queries(acces, scoped, coordinator):
    indicators = [make_indicator(acces) for _ in range(20)]
    indicator = Indicator.objects.select_related("mission__contract", "association").get(pk=indicators[0].pk)
    with CaptureQueriesContext(connection) as queries:
        selectors.refresh_cell(indicator, 1)
    assert len(queries) == 2  # the mission's indicators, their values of that year (no fed indicator)


def test_evidence_checklist(acces, scoped, coordinator):
    rpc = ActionType.objects.first()
    proved = make_indicator(acces, label="Prouvé")
    unproved = make_indicator(acces, label="Sans preuve")
    fed = make_indicator(acces, label="RPC", feed=Feed.ACTION_COUNT, feed_action_type=rpc)
    set_values(proved, 1, realised=Decimal(3))
    set_values(unproved, 1, realised=Decimal(3))
    set_values(unproved, 2, target=Decimal(3))  # no realised value: nothing to prove
    services.add_evidence(scoped.association, coordinator, SimpleUploadedFile("cr.pdf", PDF), kind="minutes",
                          title="CR", on=date.today(), indicator=proved, year=1)
    add_actions(acces, rpc, 2, scoped.years[0].start)
    add_actions(acces, rpc, 1, scoped.years[1].start)
    services.add_evidence(scoped.association, coordinator, SimpleUploadedFile("em.pdf", PDF), kind="sign_in",
                          title="Émargement", on=date.today(), action=Action.objects.filter(
                              date=scoped.years[1].start).get())
    with CaptureQueriesContext(connection) as queries:
        _data, missions = selectors.evidence_checklist(scoped.association)
    assert len(queries) == 7
    block = next(m for m in missions if m.mission == acces)
    missing = {(item.cell.indicator.label, item.cell.year.number) for item in block.missing}
    # year 1 of the fed indicator: 2 actions, no document; year 2: its action has a sign-in sheet.
    assert ("Sans preuve", 1) in missing and ("RPC", 1) in missing
    assert ("Prouvé", 1) not in missing and ("RPC", 2) not in missing and ("Sans preuve", 2) not in missing
    assert {e.title for e in block.evidence} == {"CR", "Émargement"}
    assert fed.pk
