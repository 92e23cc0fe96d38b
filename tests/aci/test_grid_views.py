"""The grid screen (htmx inline editing, read-only for viewers, exports), the indicator forms, the value
page, the evidence upload / download / checklist: owner, viewer and outsider in each, query counts
that do not grow with indicators, and a cell save well under 100 ms of server time."""

from __future__ import annotations

import statistics
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.models import Role
from indicators.models import Evidence, Feed, Indicator, IndicatorValue
from missions.models import ActionType, ContractMission, IndicatorTemplate
from tests.aci.test_indicators import PDF, make_indicator, mission_of, set_values

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"association_slug": "alpha", **kwargs})


@pytest.fixture
def indicator(association, contract):
    with scope(association=association):
        indicator = make_indicator(mission_of(contract, "acces"), label="Patients ALD sans médecin traitant",
                                   direction="down")
        set_values(indicator, 1, baseline=Decimal(1200), target=Decimal(800))
    return indicator


@pytest.fixture
def viewer_client(client, users):
    client.force_login(users[Role.VIEWER])
    return client


def test_grid_for_the_coordinator_has_editable_cells(coordinator_client, indicator):
    response = coordinator_client.get(url("aci_grid"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Patients ALD sans médecin traitant" in html
    assert url("aci_cell_edit", pk=indicator.pk, year=1, field="realised") in html
    assert "1 valeur manquante" in html and "en cours" in html
    assert f'id="cell-{indicator.pk}-5"' in html


def test_grid_is_read_only_for_viewers(viewer_client, indicator):
    response = viewer_client.get(url("aci_grid"))
    assert response.status_code == 200
    assert "hx-get" not in response.content.decode()
    assert viewer_client.get(url("aci_cell_edit", pk=indicator.pk, year=1, field="realised"), **HX).status_code == 403
    assert viewer_client.post(url("aci_cell_edit", pk=indicator.pk, year=1, field="realised"), {"realised": "1"},
                              **HX).status_code == 403


def test_grid_without_contract(coordinator_client, association):
    response = coordinator_client.get(url("aci_grid"))
    assert response.status_code == 200 and "Aucun contrat ACI" in response.content.decode()


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url("aci_grid")).status_code == 200
    return len(queries)


def test_grid_page_queries_do_not_grow(coordinator_client, association, contract, indicator):
    with scope(association=association):
        rpc = ActionType.objects.first()
        make_indicator(mission_of(contract, "acces"), feed=Feed.PARTICIPANTS, feed_action_type=rpc)
    one = _page_queries(coordinator_client)
    with scope(association=association):
        for mission in ContractMission.objects.filter(contract=contract):
            for n in range(30):
                other = make_indicator(mission, feed=Feed.ACTION_COUNT if n == 3 else Feed.MANUAL,
                                       feed_action_type=rpc if n == 3 else None)
                for year in range(1, 6):
                    set_values(other, year, Decimal(1), Decimal(9), Decimal(4))
    assert _page_queries(coordinator_client) == one


# --- Inline editing ------------------------------------------------------------------------------------


def test_cell_form_then_invalid_then_valid_save(coordinator_client, association, indicator):
    edit = url("aci_cell_edit", pk=indicator.pk, year=1, field="realised")
    form = coordinator_client.get(edit, **HX)
    assert form.status_code == 200
    assert 'name="realised"' in form.content.decode() and "autofocus" in form.content.decode()
    refused = coordinator_client.post(edit, {"realised": "neuf cents", "measured_on": "2024-05-02"}, **HX)
    assert refused.status_code == 422
    assert "pas un nombre" in refused.content.decode()
    with scope(association=association):
        assert IndicatorValue.objects.get(indicator=indicator, year=1).realised is None
    saved = coordinator_client.post(edit, {"realised": "900", "measured_on": "2024-05-02"}, **HX)
    assert saved.status_code == 200
    html = saved.content.decode()
    assert "75 %" in html  # (900 − 1 200) / (800 − 1 200)
    assert f'id="mission-{indicator.mission_id}-year-1" hx-swap-oob="true"' in html
    with scope(association=association):
        value = IndicatorValue.objects.get(indicator=indicator, year=1)
    assert value.realised == 900 and value.measured_on == date(2024, 5, 2)


def test_rate_above_100_is_refused_next_to_the_input(coordinator_client, association, contract):
    with scope(association=association):
        rate = make_indicator(mission_of(contract, "prevention"), label="Dépistage", unit="rate")
    response = coordinator_client.post(url("aci_cell_edit", pk=rate.pk, year=2, field="target"), {"target": "120"},
                                       **HX)
    assert response.status_code == 422 and "ne peut pas dépasser 100 %" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_cancel_returns_the_cell_and_non_htmx_fallback(coordinator_client, indicator):
    cell = coordinator_client.get(url("aci_cell", pk=indicator.pk, year=1) + "?focus=target", **HX)
    assert cell.status_code == 200 and "autofocus" in cell.content.decode()
    page = coordinator_client.get(url("aci_cell_edit", pk=indicator.pk, year=1, field="baseline"))
    assert page.status_code == 200 and "<main" in page.content.decode()
    saved = coordinator_client.post(url("aci_cell_edit", pk=indicator.pk, year=1, field="baseline"),
                                    {"baseline": "1 300"})
    assert saved.status_code == 302


def test_unknown_field_year_and_fed_realised_are_404(coordinator_client, association, contract, indicator):
    for year, field in ((1, "weight"), (6, "target")):
        response = coordinator_client.get(url("aci_cell_edit", pk=indicator.pk, year=year, field=field), **HX)
        assert response.status_code == 404
    with scope(association=association):
        fed = make_indicator(mission_of(contract, "acces"), feed=Feed.ACTION_COUNT,
                             feed_action_type=ActionType.objects.first())
    assert coordinator_client.get(url("aci_cell_edit", pk=fed.pk, year=1, field="realised"), **HX).status_code == 404


def test_cell_save_is_fast(coordinator_client, association, contract):
    """A cell save in a grid of 6 missions × 30 indicators × 5 years answers well under 100 ms."""
    with scope(association=association):
        for mission in ContractMission.objects.filter(contract=contract):
            for _n in range(30):
                other = make_indicator(mission)
                for year in range(1, 6):
                    set_values(other, year, Decimal(1), Decimal(9), Decimal(4))
        target = Indicator.objects.filter(mission__contract=contract).first()
    edit = url("aci_cell_edit", pk=target.pk, year=3, field="realised")
    timings = []
    for n in range(7):
        start = time.perf_counter()
        response = coordinator_client.post(edit, {"realised": str(n + 1), "measured_on": "2025-01-10"}, **HX)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        coordinator_client.post(edit, {"realised": "42", "measured_on": "2025-01-10"}, **HX)
    assert statistics.median(timings) < 0.1, timings
    assert len(queries) <= 20, [q["sql"] for q in queries.captured_queries]


def test_exports(coordinator_client, indicator):
    csv = coordinator_client.get(url("aci_grid") + "?_export=csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "Patients ALD sans médecin traitant" in text and "Valeur initiale" in text
    assert len(text.strip().splitlines()) == 1 + 5
    xlsx = coordinator_client.get(url("aci_grid") + "?_export=xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")


# --- Indicators ----------------------------------------------------------------------------------------


def test_create_indicator_from_template(coordinator_client, association, contract):
    with scope(association=association):
        mission = mission_of(contract, "prevention")
        template = IndicatorTemplate.objects.filter(mission_type=mission.mission_type).first()
    form = coordinator_client.get(url("aci_indicator_create") + f"?mission={mission.pk}")
    assert form.status_code == 200
    response = coordinator_client.post(url("aci_indicator_create"), {
        "mission": mission.pk, "template": template.pk, "weight": "2", "feed": "manual"})
    assert response.status_code == 302
    with scope(association=association):
        indicator = Indicator.objects.get()
    assert indicator.label == template.label and indicator.weight == 2


def test_create_indicator_refusals(coordinator_client, association, contract, other_contract):
    with scope(association=contract.association):
        mission = mission_of(contract, "acces")
    with scope(association=other_contract.association):
        foreign = mission_of(other_contract, "acces")
    response = coordinator_client.post(url("aci_indicator_create"), {"mission": foreign.pk, "label": "X",
                                                                     "unit": "count", "direction": "up",
                                                                     "weight": "1", "feed": "manual"})
    assert response.status_code == 200 and "pas au contrat" in response.content.decode()
    response = coordinator_client.post(url("aci_indicator_create"), {"mission": mission.pk, "label": "X",
                                                                     "unit": "rate", "direction": "up",
                                                                     "weight": "1", "feed": "action_count",
                                                                     "feed_action_type": ActionType.objects.first().pk})
    assert response.status_code == 200 and "« Nombre »" in response.content.decode()
    with scope(association=association):
        assert not Indicator.objects.exists()


def test_edit_and_delete_indicator(coordinator_client, association, indicator):
    page = coordinator_client.get(url("aci_indicator_edit", pk=indicator.pk))
    assert page.status_code == 200 and "Supprimer cet indicateur" in page.content.decode()
    response = coordinator_client.post(url("aci_indicator_edit", pk=indicator.pk), {
        "label": "Patients ALD sans MT", "unit": "count", "direction": "down", "weight": "1,5", "feed": "manual",
        "source": "cpam"})
    assert response.status_code == 302
    with scope(association=association):
        indicator.refresh_from_db()
        assert indicator.weight == Decimal("1.5") and indicator.source == "cpam"
    assert coordinator_client.post(url("aci_indicator_delete", pk=indicator.pk)).status_code == 302
    with scope(association=association):
        assert not Indicator.objects.exists()


# --- Evidence --------------------------------------------------------------------------------------------


def test_upload_download_and_checklist(coordinator_client, client, association, users, indicator):
    coordinator_client.post(url("aci_cell_edit", pk=indicator.pk, year=1, field="realised"), {"realised": "950"},
                            **HX)
    checklist = coordinator_client.get(url("aci_evidence"))
    assert checklist.status_code == 200 and "1 valeur réalisée sans livrable" in checklist.content.decode()
    refused = coordinator_client.post(url("aci_evidence_upload", pk=indicator.pk, year=1), {
        "kind": "cpam_data", "title": "Données CPAM", "date": "2024-06-01",
        "file": SimpleUploadedFile("donnees.pdf", b"MZ not a pdf")})
    assert refused.status_code == 200 and "ne correspond pas à son extension" in refused.content.decode()
    response = coordinator_client.post(url("aci_evidence_upload", pk=indicator.pk, year=1), {
        "kind": "cpam_data", "title": "Données CPAM", "date": "2024-06-01",
        "file": SimpleUploadedFile("donnees.pdf", PDF)})
    assert response.status_code == 302
    with scope(association=association):
        evidence = Evidence.objects.get()
    download = coordinator_client.get(url("aci_evidence_download", pk=evidence.pk))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Cache-Control"] == "private, no-store"
    checklist = coordinator_client.get(url("aci_evidence"))
    assert "Toutes les valeurs réalisées ont leur livrable" in checklist.content.decode()
    detail = coordinator_client.get(url("aci_cell_detail", pk=indicator.pk, year=1))
    assert "Données CPAM" in detail.content.decode()
    client.force_login(users["outsider"])
    assert client.get(url("aci_evidence_download", pk=evidence.pk)).status_code == 404
    assert client.get(reverse("aci_evidence_download", kwargs={"association_slug": "beta", "pk": evidence.pk})
                      ).status_code == 404


def test_revise_target_view(coordinator_client, association, contract, indicator):
    from missions.models import Avenant

    with scope(association=association):
        avenant = Avenant.objects.create(association=association, contract=contract, number=1,
                                         signed_on=date.today(), summary="Objectifs révisés")
    assert coordinator_client.get(url("aci_cell_revise", pk=indicator.pk, year=1)).status_code == 200
    response = coordinator_client.post(url("aci_cell_revise", pk=indicator.pk, year=1),
                                       {"target": "850", "avenant": avenant.pk})
    assert response.status_code == 302
    detail = coordinator_client.get(url("aci_cell_detail", pk=indicator.pk, year=1)).content.decode()
    assert "Révisions de l&#x27;objectif" in detail or "Révisions de l'objectif" in detail
    assert "Avenant n° 1" in detail
