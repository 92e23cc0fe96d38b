"""The CPAM indicator values import (``indicators.cpam_import``): the generic import mechanism driven with the
``cpam_indicators`` kind, through the services and through its screens under /a/<slug>/aci/import/.

A good file writes the realised values (with who entered them and when they were measured); bad rows are
listed with their line numbers and nothing is written; a patient-level file is refused at upload with the
reason and nothing is stored; importing the same file again changes nothing.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.errors import ServiceError
from associations.imports import services
from associations.imports.reader import ImportFileError
from associations.models import AuditLog, ImportJob
from indicators.cpam_import import KEY, looks_like_nir, patient_header
from indicators.models import Feed, Indicator, IndicatorValue
from missions.models import ActionType, ContractMission
from tests.imports.helpers import xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = "Code indicateur;Libellé de l'indicateur;Année du contrat;Valeur réalisée;Date de mesure"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return "\r\n".join([header, *rows, ""]).encode("utf-8-sig")


@pytest.fixture
def indicators(association, contract):
    """Five indicators of the contract; ACC-01 already has a realised value for year 1."""
    with scope(association=association):
        missions = {m.mission_type.code: m for m in ContractMission.objects.filter(association=association)
                    .select_related("mission_type")}

        def make(mission, code, label, unit, direction, **extra):
            return Indicator.objects.create(association=association, mission=missions[mission], code=code,
                                            label=label, unit=unit, direction=direction, **extra)

        made = {
            "ald": make("acces", "ACC-01", "Patients en ALD sans médecin traitant", "count", "down", source="cpam"),
            "sein": make("prevention", "PRE-01", "Taux de dépistage du cancer du sein", "rate", "up"),
            "plan": make("crise", "CRI-01", "Plan de gestion de crise rédigé", "boolean", "reach"),
            "rpc": make("qualite", "QUA-01", "Réunions pluriprofessionnelles", "count", "up",
                        feed=Feed.ACTION_COUNT, feed_action_type=ActionType.objects.get(code="rpc")),
            # The same wording in two missions, without code: only reachable... by nothing but an error.
            "pros_a": make("parcours", "", "Professionnels impliqués", "count", "up"),
            "pros_b": make("accompagnement", "", "Professionnels impliqués", "count", "up"),
        }
        IndicatorValue.objects.create(association=association, indicator=made["ald"], year=1, baseline=1200,
                                      target=1000, realised=1150, measured_on=date(2022, 1, 15))
    return made


def realised(association) -> dict[tuple[str, int], tuple]:
    with scope(association=association):
        return {(v.indicator.code or v.indicator.label, v.year): (v.realised, v.measured_on, v.entered_by_id)
                for v in IndicatorValue.objects.filter(association=association).select_related("indicator")}


def by_line(job) -> dict[int, dict]:
    return {row["line"]: row for row in job.summary["rows"]}


GOOD = csv(
    "ACC-01;Patients en ALD sans MT;1;1 080;31/12/2022",  # update (the label column is ignored: code first)
    "acc 01;;2;950;",  # code without case nor dash; create
    ";taux de depistage du CANCER du sein;2;65,4 %;15/03/2024",  # by label, accents and case ignored; create
    "CRI-01;;3;oui;",  # yes/no deliverable; create
)


def test_a_good_file_writes_the_realised_values_and_reimporting_changes_nothing(
        association, coordinator, indicators, django_capture_on_commit_callbacks):
    before = realised(association)
    with scope(association=association):
        job = services.create_job(association, coordinator, "cpam.csv", GOOD, kind=KEY)
        assert job.mapping == {"0": "code", "1": "label", "2": "year", "3": "value", "4": "measured_on"}
        services.save_mapping(job, job.mapping)
        assert job.summary["counts"] == {"create": 3, "update": 1, "unchanged": 0, "error": 0}
        rows = by_line(job)
        assert rows[2]["label"] == "ACC-01 — Patients en ALD sans médecin traitant · année 1"
        assert rows[2]["changes"] == ["Réalisé : « 1\u202f150 » → « 1\u202f080 »",
                                      "Date de la mesure : « 15/01/2022 » → « 31/12/2022 »"]
        assert rows[4]["changes"] == ["Réalisé : (vide) → « 65,4 % »"]
        assert rows[5]["changes"] == ["Réalisé : (vide) → « oui »"]
        assert realised(association) == before  # the preview writes nothing
        with django_capture_on_commit_callbacks(execute=True):
            services.queue_import(job, coordinator)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, job.error
        assert job.summary["applied"] == {"create": 3, "update": 1, "unchanged": 0}
        applied = AuditLog.objects.get(association=association, action="indicator_value.import")
        assert applied.actor == coordinator and applied.changes["updated"] == 1
        assert AuditLog.objects.filter(association=association, action="indicator_value.import_upload").exists()
        ald = IndicatorValue.objects.get(association=association, indicator=indicators["ald"], year=1)
        assert (ald.baseline, ald.target) == (Decimal(1200), Decimal(1000))  # never touched
        assert ald.entered_at is not None
    after = realised(association)
    assert after == {
        ("ACC-01", 1): (Decimal("1080.00"), date(2022, 12, 31), coordinator.pk),
        ("ACC-01", 2): (Decimal("950.00"), None, coordinator.pk),
        ("PRE-01", 2): (Decimal("65.40"), date(2024, 3, 15), coordinator.pk),
        ("CRI-01", 3): (Decimal("1.00"), None, coordinator.pk),
    }

    with scope(association=association):
        stamps = set(IndicatorValue.objects.filter(association=association).values_list("entered_at", flat=True))
        again = services.create_job(association, coordinator, "cpam.csv", GOOD, kind=KEY)
        services.save_mapping(again, again.mapping)
        assert again.summary["counts"] == {"create": 0, "update": 0, "unchanged": 4, "error": 0}
        with django_capture_on_commit_callbacks(execute=True):
            services.queue_import(again, coordinator)
        again.refresh_from_db()
        assert again.summary["applied"] == {"create": 0, "update": 0, "unchanged": 4}
        assert set(IndicatorValue.objects.filter(association=association)
                   .values_list("entered_at", flat=True)) == stamps
    assert realised(association) == after


def test_bad_rows_are_listed_by_line_and_nothing_is_written(association, coordinator, indicators,
                                                          django_capture_on_commit_callbacks):
    data = csv(
        "ACC-01;;2;900;",  # the only good row
        "XYZ-99;Indicateur inventé;1;12;",
        "ACC-01;;6;900;",
        "ACC-01;;2023;900;",
        "ACC-01;;3;beaucoup;",
        "PRE-01;;1;104,5;",
        "CRI-01;;1;peut-être;",
        "QUA-01;;1;12;",
        ";Professionnels impliqués;1;8;",
        "ACC-01;;2;880;",
        "ACC-01;Taux de dépistage du cancer du sein;3;1;",
        "ACC-01;;4;-5;",
        "ACC-01;;4;;",
    )
    before = realised(association)
    with scope(association=association):
        job = services.create_job(association, coordinator, "cpam.csv", data, kind=KEY)
        services.save_mapping(job, job.mapping)
        assert job.summary["counts"] == {"create": 1, "update": 0, "unchanged": 0, "error": 12}
        errors = {line: row["errors"] for line, row in by_line(job).items() if row["errors"]}
        assert errors == {
            3: ["indicateur « XYZ-99 — Indicateur inventé » introuvable dans le contrat (ni code, ni libellé connu)"],
            4: ["année du contrat « 6 » hors limites (entre 1 et 5)"],
            5: ["année « 2023 » : une année civile ne désigne pas une année du contrat (elles vont d'un anniversaire "
                "de la signature au suivant) ; indiquez l'année du contrat (1 à 5) ou une date de la période"],
            6: ["valeur « beaucoup » invalide (nombre attendu, ex. 12,5)"],
            7: ["taux « 104,5 » supérieur à 100 %"],
            8: ["valeur « peut-être » invalide pour un livrable (oui, non, 1 ou 0 attendu)"],
            9: ["« Réunions pluriprofessionnelles » est calculé à partir des actions : sa valeur réalisée ne s'importe "
                "pas"],
            10: ["plusieurs indicateurs du contrat s'intitulent « Professionnels impliqués » (missions « Parcours "
                 "pluriprofessionnels autour du patient », « Accompagnement des professionnels de santé "
                 "(attractivité) ») : indiquez leur code"],
            11: ["doublon de la ligne 2 (même indicateur, même année)"],
            12: ["le code et le libellé désignent deux indicateurs différents (« Patients en ALD sans médecin "
                 "traitant » et « Taux de dépistage du cancer du sein »)"],
            13: ["valeur « -5 » négative"],
            14: ["Valeur réalisée : valeur manquante"],
        }
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ServiceError) as refused:
            services.queue_import(job, coordinator)
        assert str(refused.value) == ("Le fichier contient 12 ligne(s) en erreur : corrigez-les puis déposez à "
                                      "nouveau le fichier. Aucune valeur n'a été importée.")
        assert callbacks == []
    assert realised(association) == before


def test_the_year_may_be_a_date_inside_the_contract_year(association, coordinator, indicators, contract):
    year_3 = contract.years[2]
    after_end = contract.years[-1].end + relativedelta(days=1)
    data = csv(f"ACC-01;;{year_3.start:%d/%m/%Y};900;", f"PRE-01;;{year_3.end:%d/%m/%Y};66;",
               f"PRE-01;;{after_end:%d/%m/%Y};66;", "CRI-01;;année 4;non;", "CRI-01;;A5;1;")
    with scope(association=association):
        job = services.create_job(association, coordinator, "cpam.csv", data, kind=KEY)
        services.save_mapping(job, job.mapping)
    rows = by_line(job)
    assert [rows[line]["label"][-7:] for line in (2, 3, 5, 6)] == ["année 3", "année 3", "année 4", "année 5"]
    assert rows[4]["errors"] == [
        f"date « {after_end:%d/%m/%Y} » en dehors du contrat (du {contract.signed_on:%d/%m/%Y} au "
        f"{contract.years[-1].end:%d/%m/%Y})"]


def test_without_a_contract_every_row_says_so(association, coordinator):
    with scope(association=association):
        job = services.create_job(association, coordinator, "cpam.csv", csv("ACC-01;;1;900;"), kind=KEY)
        services.save_mapping(job, job.mapping)
    assert by_line(job)[2]["errors"] == ["aucun contrat ACI n'est enregistré pour l'association : créez-le d'abord"]


@pytest.mark.parametrize("header", ["Nom du patient", "Patient", "Prénom", "Date de naissance", "NIR",
                                    "Numéro de sécurité sociale", "N° sécu", "INS", "Adresse du patient",
                                    "Nom de l'assuré", "IPP"])
def test_a_file_with_a_patient_column_is_refused(association, coordinator, indicators, header):
    data = csv("ACC-01;;1;900;;Dupont", header=HEADER + f";{header}")
    with pytest.raises(ImportFileError) as refused:
        services.read_table(data, "cpam.csv", kind=KEY)
    message = str(refused.value)
    assert message.startswith(f"Fichier refusé : la colonne « {header} » désigne des données de patients.")
    assert "aucune donnée individuelle de patient" in message and "Rien n'a été enregistré" in message


@pytest.mark.parametrize("nir", ["185057800608436", "2 85 05 78 006 084", "1.85.05.2A.006.084.36"])
def test_a_column_of_nir_numbers_is_refused_whatever_its_header(nir):
    data = csv("ACC-01;;1;900;;ABC", f"PRE-01;;1;60;;{nir}", header=HEADER + ";Référence")
    with pytest.raises(ImportFileError, match=r"^Fichier refusé : la colonne « Référence » contient un numéro de "
                                              r"sécurité sociale \(NIR\) ligne 3\."):
        services.read_table(data, "cpam.csv", kind=KEY)


def test_a_patient_file_without_any_indicator_header_is_refused_for_its_patients():
    data = csv("Dupont;Claire;12/03/1950", header="Nom;Prénom;Date de naissance")
    with pytest.raises(ImportFileError, match="^Fichier refusé : la colonne « Prénom » désigne des données de "
                                              "patients"):
        services.read_table(data, "patients.csv", kind=KEY)
    # A file of something else is still refused for its headers.
    with pytest.raises(ImportFileError, match="^Aucune colonne n'est reconnue"):
        services.read_table(csv("a;b", header="Foo;Bar"), "a.csv", kind=KEY)


def test_aggregated_headers_about_patients_are_accepted():
    assert not patient_header("Nombre de patients") and not patient_header("Taux de patients avec MT")
    assert not patient_header("Libellé de l'indicateur") and not patient_header("Valeur réalisée")
    assert patient_header("Patients") and patient_header("ID patient") and patient_header("Nom de naissance")
    assert not looks_like_nir("12345678901") and not looks_like_nir("385057800608436")
    # The members import is not concerned: its files hold first names.
    assert services.read_table(csv("Dupont;Claire", header="Nom;Prénom"), "a.csv").headers == ["Nom", "Prénom"]


def test_the_patient_file_is_refused_at_upload_and_nothing_is_stored(coordinator_client, association, indicators,
                                                                    settings):
    data = xlsx_bytes([["ACC-01", 1, 900, "Dupont"]], header=["Code", "Année", "Valeur", "Nom du patient"])
    response = coordinator_client.post(reverse("aci_import_upload", args=[association.slug]), {
        "file": SimpleUploadedFile("extraction.xlsx", data)})
    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert "Fichier refusé : la colonne « Nom du patient » désigne des données de patients." in page
    assert "Rien n'a été enregistré" in page
    with scope(association=association):
        assert not ImportJob.objects.filter(association=association).exists()
        assert not AuditLog.objects.filter(association=association, action__startswith="indicator_value.").exists()
    stored = [name for _folder, _dirs, names in os.walk(settings.MEDIA_ROOT) for name in names]
    assert stored == []


def test_the_screens_import_a_file(coordinator_client, association, coordinator, indicators,
                                   django_capture_on_commit_callbacks):
    slug = association.slug
    upload = reverse("aci_import_upload", args=[slug])
    page = unescape(coordinator_client.get(upload).content.decode())
    assert "Importer les valeurs des indicateurs (fichier CPAM)" in page
    data = xlsx_bytes([["ACC-01", 2, 950, "31/12/2023"], ["PRE-01", 2, 65.4, None]],
                      header=["Code", "Année", "Valeur", "Date d'extraction"])
    response = coordinator_client.post(upload, {"file": SimpleUploadedFile("cpam.xlsx", data)})
    with scope(association=association):
        job = ImportJob.objects.get(association=association, kind=KEY)
    assert response["Location"] == reverse("aci_import_mapping", args=[slug, job.pk])
    page = unescape(coordinator_client.get(response["Location"]).content.decode())
    assert '<option value="year" selected>' in page
    response = coordinator_client.post(reverse("aci_import_mapping", args=[slug, job.pk]),
                                       {"col_0": "code", "col_1": "year", "col_2": "value", "col_3": "measured_on"})
    assert response["Location"] == reverse("aci_import_preview", args=[slug, job.pk])
    page = unescape(coordinator_client.get(response["Location"]).content.decode())
    assert "Valeurs à enregistrer (2)" in page and "« 65,4 % »" in page
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(reverse("aci_import_confirm", args=[slug, job.pk]))
    status = unescape(coordinator_client.get(reverse("aci_import_status", args=[slug, job.pk])).content.decode())
    assert "Import terminé" in status and "2 valeur(s) enregistrée(s)" in status
    assert realised(association)[("ACC-01", 2)] == (Decimal("950.00"), date(2023, 12, 31), coordinator.pk)
    listing = unescape(coordinator_client.get(reverse("aci_import_list", args=[slug])).content.decode())
    assert "Imports des données CPAM" in listing and ">cpam.xlsx</a>" in listing
    # The members import screens do not see this job.
    assert coordinator_client.get(reverse("import_preview", args=[slug, job.pk])).status_code == 404


def test_the_viewer_cannot_import(client, users, association, indicators):
    client.force_login(users["viewer"])
    assert client.get(reverse("aci_import_upload", args=[association.slug])).status_code == 403


def test_classifying_uses_a_fixed_number_of_queries(association, coordinator, indicators):
    def queries(*rows: str) -> int:
        with scope(association=association):
            job = services.create_job(association, coordinator, "cpam.csv", csv(*rows), kind=KEY)
            table = services.load_table(job)
            with CaptureQueriesContext(connection) as captured:
                services.preview(job, table=table)
        return len(captured)

    one = queries("ACC-01;;1;900;")
    assert one == queries("ACC-01;;1;900;", "ACC-01;;2;850;", "PRE-01;;1;60;", "CRI-01;;1;oui;", "Bad;;1;1;") == 3


def test_write_job_defaults_to_write_for_the_other_kinds():
    """The extension point the CPAM kind uses (``ImportKind.write_job``, to record who entered the values): other
    kinds keep their ``write(association, rows, existing)``."""
    from associations.imports.schema import ImportKind

    calls = []

    class Probe(ImportKind):
        def __init__(self):  # no registration: only the hook is exercised
            pass

        def write(self, association, rows, existing):
            calls.append((association, rows, existing))

    Probe().write_job("association", ["row"], "existing", job=object())
    assert calls == [("association", ["row"], "existing")]
