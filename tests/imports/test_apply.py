"""Confirmation and the background job: all rows written in one transaction or none, one audit row,
idempotent retries, progress partial polled by htmx, list of past imports."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.imports.tasks import apply_import
from associations.membership import import_schema
from associations.models import AuditLog, College, ImportJob, Member
from tests.factories import make_member
from tests.imports.helpers import RPPS, csv_bytes, make_college, members, person, preview_job

pytestmark = pytest.mark.django_db

ROWS = [
    person(last="Lefèvre", first="Hélène", profession="IDE", email="helene@example.org", college="PS libéraux",
           joined="05/03/2021", civility="Mme", rpps=RPPS[0]),
    person(last="Dupont", first="Claire", rpps=RPPS[1], phone="06 12 34 56 78"),
    person(last="Petit", first="Anne", rpps=RPPS[2]),
    person(last="Roux", first="Marc", email="marc@example.org"),
]


@pytest.fixture
def college(association):
    return make_college(association, "PS libéraux")


def confirm(client, association, job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("import_confirm", args=[association.slug, job.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("import_preview", args=[association.slug, job.pk])
    job.refresh_from_db()
    return callbacks


def import_audits(association) -> list[AuditLog]:
    with scope(association=association):
        return list(AuditLog.objects.filter(association=association, action="member.import").order_by("pk"))


def test_confirm_applies_every_row_with_one_audit_row(coordinator_client, association, college, coordinator,
                                                      django_capture_on_commit_callbacks):
    existing = make_member(association, last_name="Dupont", first_name="Claire", rpps=RPPS[1])
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    assert job.summary["counts"] == {"create": 3, "update": 1, "unchanged": 0, "error": 0}
    callbacks = confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    assert len(callbacks) == 1  # the task is enqueued after commit
    assert job.status == ImportJob.Status.DONE
    assert job.processed_rows == job.total_rows == 4
    assert job.summary["applied"] == {"create": 3, "update": 1, "unchanged": 0}
    assert job.started_at and job.finished_at
    rows = {m.last_name: m for m in members(association)}
    assert sorted(rows) == ["Dupont", "Lefèvre", "Petit", "Roux"]
    helene = rows["Lefèvre"]
    assert (helene.first_name, helene.civility, helene.profession.code, helene.college, helene.joined_on,
            helene.email, helene.rpps, helene.postal_code, helene.city, helene.status, helene.kind) == (
        "Hélène", "mme", "infirmier", college, date(2021, 3, 5), "helene@example.org", RPPS[0], "37000", "Tours",
        "prospect", "person")
    assert rows["Dupont"].pk == existing.pk
    assert rows["Dupont"].phone == "06 12 34 56 78"
    assert rows["Dupont"].updated_at > existing.updated_at
    audits = import_audits(association)
    assert len(audits) == 1
    assert audits[0].actor == coordinator
    assert audits[0].target_id == str(job.pk)
    assert audits[0].changes == {"job": job.pk, "file": "adherents.csv", "created": 3, "updated": 1,
                                 "unchanged": 0}
    # The whole import is one audit row, not one per member.
    with scope(association=association):
        assert not AuditLog.objects.filter(association=association, action__in=["member.create", "member.update"]) \
            .exists()


def test_reimporting_the_same_file_changes_nothing(coordinator_client, association, college,
                                                   django_capture_on_commit_callbacks):
    data = csv_bytes(ROWS)
    first = preview_job(coordinator_client, association, data)
    confirm(coordinator_client, association, first, django_capture_on_commit_callbacks)
    before = [(m.pk, m.updated_at, m.phone, m.email) for m in members(association)]
    second = preview_job(coordinator_client, association, data)
    assert second.summary["counts"] == {"create": 0, "update": 0, "unchanged": 4, "error": 0}
    response = coordinator_client.get(reverse("import_preview", args=[association.slug, second.pk]))
    assert '<div class="fs-3 fw-semibold" data-count="unchanged">4</div>' in response.content.decode()
    confirm(coordinator_client, association, second, django_capture_on_commit_callbacks)
    assert second.status == ImportJob.Status.DONE
    assert second.summary["applied"] == {"create": 0, "update": 0, "unchanged": 4}
    assert [(m.pk, m.updated_at, m.phone, m.email) for m in members(association)] == before


def test_reimporting_the_same_xlsx_changes_nothing(coordinator_client, association, college,
                                                   django_capture_on_commit_callbacks):
    from tests.imports.helpers import xlsx_bytes

    rows = [["Dr", "Martin", "Paul", "Médecin", int(RPPS[3]), "p@example.org", "0247000000", 1000, "Bourg",
             "PS libéraux", date(2020, 1, 31)]]
    first = preview_job(coordinator_client, association, xlsx_bytes(rows), name="a.xlsx")
    confirm(coordinator_client, association, first, django_capture_on_commit_callbacks)
    (paul,) = members(association)
    assert (paul.rpps, paul.postal_code, paul.joined_on) == (RPPS[3], "01000", date(2020, 1, 31))
    second = preview_job(coordinator_client, association, xlsx_bytes(rows), name="a.xlsx")
    assert second.summary["counts"]["unchanged"] == 1


def test_failure_inside_apply_leaves_zero_new_members(coordinator_client, association, college, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    """Rows 1 and 2 are really INSERTed (one row per batch) before row 3 raises: all is rolled back."""
    monkeypatch.setattr(import_schema, "BATCH_SIZE", 1)
    written = []
    prepare = import_schema._prepare_for_write

    def failing(member, college_ids):
        if len(written) == 2:
            assert Member.objects.filter(association=association).count() == 2  # rows 1-2 are in the database
            raise RuntimeError("disque plein")
        written.append(member)
        return prepare(member, college_ids)

    monkeypatch.setattr(import_schema, "_prepare_for_write", failing)
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    assert len(written) == 2
    assert job.status == ImportJob.Status.FAILED
    assert "aucun adhérent n'a été créé ni modifié" in job.error
    assert members(association) == []
    assert import_audits(association) == []
    response = coordinator_client.get(reverse("import_preview", args=[association.slug, job.pk]))
    assert "L'import a échoué : aucun adhérent n'a été créé ni modifié." in unescape(response.content.decode())


def test_failure_after_creates_rolls_back_the_updates_too(coordinator_client, association, college, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    existing = make_member(association, last_name="Dupont", first_name="Claire", rpps=RPPS[1])

    def broken(*args, **kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(Member.objects, "bulk_update", broken)
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.FAILED
    assert [m.pk for m in members(association)] == [existing.pk]
    assert members(association)[0].phone == ""


def test_rows_in_error_at_apply_time_write_nothing(coordinator_client, association, college,
                                                   django_capture_on_commit_callbacks):
    """Between the preview and the job the collège is deleted: the job fails with the reasons."""
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    assert job.summary["counts"]["error"] == 0
    with scope(association=association):
        College.objects.filter(pk=college.pk).delete()
    confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("1 ligne(s) en erreur : aucun adhérent n'a été créé ni modifié.\n"
                                "Ligne 2 : collège « PS libéraux » inconnu")
    assert job.summary["counts"]["error"] == 1
    assert members(association) == []


def test_task_is_idempotent_and_skips_jobs_not_queued(coordinator_client, association, college,
                                                      django_capture_on_commit_callbacks):
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    assert apply_import(association.pk, job.pk) == "skipped"  # previewed, not confirmed
    assert members(association) == []
    confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.DONE
    assert apply_import(association.pk, job.pk) == "skipped"  # a retried message
    assert len(members(association)) == 4
    assert len(import_audits(association)) == 1
    with scope(association=association):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    assert apply_import(association.pk, job.pk) == "skipped"  # another worker has it
    assert len(members(association)) == 4


def test_confirm_twice_is_refused(coordinator_client, association, college, django_capture_on_commit_callbacks):
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    callbacks = confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    assert callbacks == []
    assert len(members(association)) == 4


def test_task_of_another_association_cannot_apply_the_job(coordinator_client, association, other_association,
                                                          college, django_capture_on_commit_callbacks):
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    with scope(association=association):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    assert apply_import(other_association.pk, job.pk) == "skipped"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
    with scope(association=other_association):
        assert not Member.objects.filter(association=other_association).exists()


def test_status_partial_polls_while_queued_and_stops_when_done(coordinator_client, association, college,
                                                               django_capture_on_commit_callbacks):
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    url = reverse("import_status", args=[association.slug, job.pk])
    with scope(association=association):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    response = coordinator_client.get(url, headers={"HX-Request": "true"})
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert not html.lstrip().startswith("<!DOCTYPE")  # a fragment for htmx
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert "En file d'attente" in html
    preview = coordinator_client.get(reverse("import_preview", args=[association.slug, job.pk]))
    assert 'hx-trigger="every 1s"' in preview.content.decode()  # the preview page polls too
    with scope(association=association):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    assert "Import en cours" in coordinator_client.get(url, headers={"HX-Request": "true"}).content.decode()
    with scope(association=association):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    assert apply_import(association.pk, job.pk) == "done"
    html = unescape(coordinator_client.get(url, headers={"HX-Request": "true"}).content.decode())
    assert "hx-trigger" not in html
    assert "Import terminé" in html and "4 lignes traitées" in html
    assert "4 adhérent(s) créé(s)" in html and "0 adhérent(s) mis à jour" in html
    full = coordinator_client.get(url)
    assert full.content.decode().lstrip().startswith("<!DOCTYPE")  # without htmx: a whole page


def test_list_of_past_imports_with_constant_queries(coordinator_client, association, college):
    preview_job(coordinator_client, association, csv_bytes(ROWS[:1]))
    url = reverse("import_list", args=[association.slug])
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(url)
    for _ in range(3):
        preview_job(coordinator_client, association, csv_bytes(ROWS[1:2]))
    with CaptureQueriesContext(connection) as four:
        response = coordinator_client.get(url)
    # session, user, association, role, then one query for the jobs with their author.
    assert len(one) == len(four)
    html = unescape(response.content.decode())
    assert html.count(">adherents.csv</a>") == 4
    assert "Aperçu prêt" in html
    assert reverse("import_upload", args=[association.slug]) in html


def test_stored_file_gone_or_unreadable_fails_cleanly(coordinator_client, association, college,
                                                     django_capture_on_commit_callbacks):
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    job.file.storage.delete(job.file.name)
    confirm(coordinator_client, association, job, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("Le fichier déposé est introuvable")
    other = preview_job(coordinator_client, association, csv_bytes(ROWS))
    with open(other.file.path, "wb") as handle:
        handle.write(b"")
    confirm(coordinator_client, association, other, django_capture_on_commit_callbacks)
    assert other.status == ImportJob.Status.FAILED
    assert other.error == "Le fichier est vide. Aucun adhérent n'a été créé ni modifié."
    assert members(association) == []
