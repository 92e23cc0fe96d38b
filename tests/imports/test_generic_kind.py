"""The import package is generic: a second import kind, registered by the test (and unregistered after),
goes through the same services and screens as the members import — upload → mapping → preview → apply —
with bad rows reported by line and nothing partially written.

The kind imports the association's cotisation amounts (``Tariff``: category, amount), the shape of a
later CPAM indicator values import (a code, a number, a year or a date per row).
"""

from __future__ import annotations

from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.errors import ServiceError
from associations.imports import services, values
from associations.imports.classification import CREATE, UNCHANGED, UPDATE, describe_change
from associations.imports.reader import ImportFileError
from associations.imports.schema import Field, ImportKind, Wording, import_kinds, register_kind
from associations.imports.tasks import apply_import
from associations.models import AuditLog, ImportJob, Tariff, TariffCategory
from associations.registries import audit_actions, register_audit_actions

pytestmark = pytest.mark.django_db

CATEGORIES = {values.normalize(label): value for value, label in TariffCategory.choices}
CATEGORIES.update({values.normalize(value): value for value in TariffCategory.values} | {"etudiant": "student"})
AUDIT = {"test_tariff.import_upload": "Fichier de tarifs déposé", "test_tariff.import": "Import de tarifs"}


class TariffsImport(ImportKind):
    key = "test_tariffs"
    capability = "manage_members"
    fields = (
        Field("category", "Catégorie", ("categorie",), required=True,
              parser=values.lookup(CATEGORIES, "catégorie", "Professionnel de santé, Structure ou Étudiant")),
        Field("amount", "Montant", ("montant", "tarif"), required=True, parser=values.decimal("montant")),
        Field("note", "Remarque", ("remarque",)),
    )
    audit_upload = "test_tariff.import_upload"
    audit_apply = "test_tariff.import"
    wording = Wording(title="Imports de tarifs", create_section="Tarifs à créer", created="tarif(s) créé(s)",
                      nothing_written="aucun tarif n'a été enregistré", nothing_imported="Aucun tarif n'a été importé.")

    def load(self, association):
        # One query whatever the number of rows; "seen" remembers the categories met in the file.
        return {"tariffs": {t.category: t for t in Tariff.objects.filter(association=association)}, "seen": {}}

    def classify_row(self, association, row, existing):
        category, amount = row.values.get("category"), row.values.get("amount")
        row.label = str(TariffCategory(category).label) if category else "—"
        if category in existing["seen"]:
            row.errors.append(f"doublon de la ligne {existing['seen'][category]}")
        elif category:
            existing["seen"][category] = row.line
        if row.errors:
            return
        tariff = existing["tariffs"].get(category)
        if tariff is None:
            row.action, row.instance = CREATE, Tariff(association=association, category=category, amount=amount)
        elif tariff.amount == amount:
            row.action = UNCHANGED
        else:
            row.changes.append(describe_change("Montant", tariff.amount, amount))
            tariff.amount = amount
            row.action, row.instance, row.changed_fields = UPDATE, tariff, ["amount"]

    def write(self, association, rows, existing):
        for row in rows:  # one statement per row: a failure in the middle has already written some
            row.instance.save()


@pytest.fixture
def kind():
    register_audit_actions(AUDIT)
    registered = register_kind(TariffsImport())
    yield registered
    import_kinds.unregister(registered.key)
    for code in AUDIT:
        audit_actions.unregister(code)


@pytest.fixture
def tariffs(association):
    with scope(association=association):
        for category, amount in (("person", "30.00"), ("structure", "100.00")):
            Tariff.objects.create(association=association, category=category, amount=Decimal(amount))


def csv(*rows: str, header: str = "Catégorie;Montant;Commentaire") -> bytes:
    return "\r\n".join([header, *rows, ""]).encode("utf-8-sig")


def amounts(association) -> dict[str, Decimal]:
    with scope(association=association):
        return dict(Tariff.objects.filter(association=association).values_list("category", "amount"))


def by_line(job) -> dict[int, dict]:
    return {row["line"]: row for row in job.summary["rows"]}


def test_the_test_kind_is_registered_only_by_its_fixture():
    assert "test_tariffs" not in import_kinds
    assert "members" in import_kinds


def test_upload_mapping_preview_apply_through_the_services(kind, association, coordinator, tariffs,
                                                            django_capture_on_commit_callbacks):
    data = csv("Professionnel de santé;30,00;", "Structure;120;hausse votée en AG", "Étudiant;0;")
    with scope(association=association):
        job = services.create_job(association, coordinator, "tarifs.csv", data, kind=kind.key)
        assert (job.kind, job.total_rows, job.status) == ("test_tariffs", 3, ImportJob.Status.UPLOADED)
        assert job.mapping == {"0": "category", "1": "amount", "2": ""}  # "Commentaire" is not one of ours
        upload = AuditLog.objects.get(association=association, action="test_tariff.import_upload")
        assert (upload.actor, upload.changes) == (coordinator, {"file": "tarifs.csv", "rows": 3})

        services.save_mapping(job, job.mapping)
        assert job.status == ImportJob.Status.PREVIEWED
        assert job.summary["counts"] == {"create": 1, "update": 1, "unchanged": 1, "error": 0}
        assert by_line(job)[3]["changes"] == ["Montant : « 100.00 » → « 120 »"]
        assert by_line(job)[4]["label"] == "Étudiant·e / interne"
        assert amounts(association) == {"person": Decimal("30.00"), "structure": Decimal("100.00")}  # preview only

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.queue_import(job, coordinator)
        assert len(callbacks) == 1
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE
        assert job.summary["applied"] == {"create": 1, "update": 1, "unchanged": 1}
        assert amounts(association) == {"person": Decimal("30.00"), "structure": Decimal("120.00"),
                                        "student": Decimal("0.00")}
        applied = AuditLog.objects.get(association=association, action="test_tariff.import")
        assert applied.changes == {"job": job.pk, "file": "tarifs.csv", "created": 1, "updated": 1, "unchanged": 1}
        assert not AuditLog.objects.filter(association=association, action__startswith="member.").exists()
    assert apply_import(association.pk, job.pk) == "skipped"  # a retried message does nothing twice


def test_bad_rows_are_reported_by_line_and_block_the_import(kind, association, coordinator, tariffs,
                                                           django_capture_on_commit_callbacks):
    data = csv("Étudiant;0;", "Retraité;10;", "Structure;abc;", "Professionnel de santé;;", "Étudiant;5;")
    with scope(association=association):
        job = services.create_job(association, coordinator, "tarifs.csv", data, kind=kind.key)
        services.save_mapping(job, job.mapping)
        rows = by_line(job)
        assert job.summary["counts"] == {"create": 1, "update": 0, "unchanged": 0, "error": 4}
        assert rows[3]["errors"] == ["catégorie « Retraité » inconnu (Professionnel de santé, Structure ou Étudiant "
                                     "attendu)"]
        assert rows[4]["errors"] == ["montant « abc » invalide (nombre attendu, ex. 12,5)"]
        assert rows[5]["errors"] == ["Montant : valeur manquante"]
        assert rows[6]["errors"] == ["doublon de la ligne 2"]
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ServiceError) as refused:
            services.queue_import(job, coordinator)
        assert str(refused.value) == ("Le fichier contient 4 ligne(s) en erreur : corrigez-les puis déposez à nouveau "
                                      "le fichier. Aucun tarif n'a été importé.")
        assert callbacks == []
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert amounts(association) == {"person": Decimal("30.00"), "structure": Decimal("100.00")}


def test_a_row_in_error_when_applying_writes_nothing(kind, association, coordinator, tariffs):
    """The stored file changed after the preview: the good rows before the bad one are not written either."""
    with scope(association=association):
        job = services.create_job(association, coordinator, "tarifs.csv", csv("Étudiant;0;", "Structure;120;"),
                                  kind=kind.key)
        services.save_mapping(job, job.mapping)
        with open(job.file.path, "wb") as handle:
            handle.write(csv("Étudiant;0;", "Structure;120;", "Structure;95;"))
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    assert apply_import(association.pk, job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error == "1 ligne(s) en erreur : aucun tarif n'a été enregistré.\nLigne 4 : doublon de la ligne 3"
    assert job.summary["counts"]["error"] == 1
    assert amounts(association) == {"person": Decimal("30.00"), "structure": Decimal("100.00")}


def test_a_failure_while_writing_rolls_every_row_back(kind, association, coordinator, tariffs, monkeypatch):
    with scope(association=association):
        job = services.create_job(association, coordinator, "tarifs.csv", csv("Étudiant;0;", "Structure;120;"),
                                  kind=kind.key)
        services.save_mapping(job, job.mapping)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    saved = []
    save = Tariff.save

    def failing(self, *args, **kwargs):
        if saved:
            assert Tariff.objects.filter(category="student").exists()  # the first row is in the database
            raise RuntimeError("disque plein")
        saved.append(self)
        save(self, *args, **kwargs)

    monkeypatch.setattr(Tariff, "save", failing)
    assert apply_import(association.pk, job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == ("Erreur inattendue pendant l'import : aucun tarif n'a été enregistré. Réessayez ou contactez "
                         "l'assistance.")
    assert amounts(association) == {"person": Decimal("30.00"), "structure": Decimal("100.00")}
    with scope(association=association):
        assert not AuditLog.objects.filter(association=association, action="test_tariff.import").exists()


@pytest.mark.parametrize("mapping,message", [
    ({"0": "category", "1": "", "2": ""}, "Choisissez la colonne « Montant » : elle est obligatoire."),
    ({"0": "category", "1": "amount", "2": "amount"}, "« Montant » est choisi pour deux colonnes."),
    ({"0": "category", "1": "amount", "2": "last_name"}, "Information « last_name » inconnue."),
])
def test_the_mapping_is_checked_against_the_kinds_fields(kind, association, coordinator, mapping, message):
    with scope(association=association):
        job = services.create_job(association, coordinator, "tarifs.csv", csv("Étudiant;0;"), kind=kind.key)
        with pytest.raises(ServiceError, match=message):
            services.save_mapping(job, mapping)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.UPLOADED


def test_a_file_without_the_kinds_headers_is_refused(kind):
    with pytest.raises(ImportFileError, match=r"Aucune colonne n'est reconnue .*\(Catégorie, Montant, Remarque…\)"):
        services.read_table(csv("Dupont;Claire", header="Nom;Prénom"), "a.csv", kind=kind.key)
    # The same file is a members file.
    assert services.read_table(csv("Dupont;Claire", header="Nom;Prénom"), "a.csv").headers == ["Nom", "Prénom"]


def test_classifying_uses_a_fixed_number_of_queries(kind, association, coordinator, tariffs):
    def queries(*rows: str) -> int:
        with scope(association=association):
            job = services.create_job(association, coordinator, "tarifs.csv", csv(*rows), kind=kind.key)
            table = services.load_table(job)
            with CaptureQueriesContext(connection) as captured:
                services.preview(job, table=table)
        return len(captured)

    assert queries("Étudiant;0;") == queries("Étudiant;0;", "Structure;120;", "Professionnel de santé;30;") == 1


@pytest.mark.urls("tests.imports.generic_urls")
def test_the_screens_serve_the_kind_of_their_urls(kind, coordinator_client, association, tariffs,
                                                  django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    slug = association.slug
    response = coordinator_client.post(reverse("tariff_import_upload", args=[slug]), {
        "file": SimpleUploadedFile("tarifs.csv", csv("Étudiant;0;", "Structure;120;"), content_type="text/csv")})
    with scope(association=association):
        job = ImportJob.objects.get(association=association, kind="test_tariffs")
    assert response["Location"] == reverse("tariff_import_mapping", args=[slug, job.pk])
    page = unescape(coordinator_client.get(response["Location"]).content.decode())
    assert '<option value="amount" selected>Montant</option>' in page and "Raison sociale" not in page
    response = coordinator_client.post(reverse("tariff_import_mapping", args=[slug, job.pk]),
                                       {"col_0": "category", "col_1": "amount", "col_2": ""})
    assert response["Location"] == reverse("tariff_import_preview", args=[slug, job.pk])
    page = unescape(coordinator_client.get(response["Location"]).content.decode())
    assert "Tarifs à créer (1)" in page and "Lignes à mettre à jour (1)" in page
    assert reverse("tariff_import_confirm", args=[slug, job.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(reverse("tariff_import_confirm", args=[slug, job.pk]))
    status = unescape(coordinator_client.get(reverse("tariff_import_status", args=[slug, job.pk])).content.decode())
    assert "Import terminé" in status and "1 tarif(s) créé(s)" in status
    assert amounts(association)["student"] == Decimal("0.00")
    listing = unescape(coordinator_client.get(reverse("tariff_import_list", args=[slug])).content.decode())
    assert "Imports de tarifs" in listing and ">tarifs.csv</a>" in listing
    # Each kind's screens show and reach only the jobs of that kind.
    assert ">tarifs.csv</a>" not in coordinator_client.get(reverse("import_list", args=[slug])).content.decode()
    assert coordinator_client.get(reverse("import_preview", args=[slug, job.pk])).status_code == 404


@pytest.mark.urls("tests.imports.generic_urls")
def test_the_screens_of_an_unregistered_kind_are_404(coordinator_client, association):
    assert coordinator_client.get(reverse("tariff_import_list", args=[association.slug])).status_code == 404


def test_generic_value_parsers_for_figures_and_dates():
    """What a CPAM indicator values kind needs: a contract year, a decimal value, a measured date."""
    year, value = values.integer("année", 2019, 2100), values.decimal("valeur")
    assert (year("2024", None), value("1 234,50", None), value("85 %", None)) == (2024, Decimal("1234.50"), 85)
    assert values.french_date("31/12/2024", None).isoformat() == "2024-12-31"
    assert (values.boolean("Oui", None), values.boolean("non", None)) == (True, False)
    refused = [(year, "2018", "année « 2018 » hors limites (entre 2019 et 2100)"),
               (year, "deux mille", "année « deux mille » invalide (nombre entier attendu)"),
               (value, "12,5,3", "valeur « 12,5,3 » invalide (nombre attendu, ex. 12,5)"),
               (values.french_date, "2024-13-01", "date « 2024-13-01 » invalide (jj/mm/aaaa attendu)")]
    for parser, raw, message in refused:
        with pytest.raises(values.InvalidValue) as error:
            parser(raw, None)
        assert str(error.value) == message


def test_a_queued_job_whose_kind_is_gone_fails_cleanly(kind, association, coordinator):
    with scope(association=association):
        job = services.create_job(association, coordinator, "tarifs.csv", csv("Étudiant;0;"), kind=kind.key)
        services.save_mapping(job, job.mapping)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    import_kinds.unregister(kind.key)
    assert apply_import(association.pk, job.pk) == "failed"
    job.refresh_from_db()
    assert (job.status, job.error) == (ImportJob.Status.FAILED, "Type d'import inconnu.")
    assert amounts(association) == {}
