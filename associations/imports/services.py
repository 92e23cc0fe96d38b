"""Writes of the import: one function per step, each in its transaction, with its audit row where data
changes; the background work is enqueued after commit (``delay_on_commit``).

``create_job`` (upload) → ``save_mapping`` (columns + preview, nothing written but the job) →
``queue_import`` (confirmation) → ``run_import`` (the task's body: lock, skip work already done,
``apply_job`` writes every row in one transaction or none, record the outcome).
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst, get_valid_filename
from django.utils.translation import gettext as _

from associations import audit
from associations.errors import ServiceError
from associations.imports import reader, tasks
from associations.imports.classification import CREATE, ERROR, UNCHANGED, UPDATE, ImportRowsError, RowResult, summarize
from associations.imports.columns import mapping_errors
from associations.imports.reader import ImportFileError, Table
from associations.imports.schema import get_kind, import_kinds
from associations.models import Association, ImportJob, User

logger = logging.getLogger(__name__)

DEFAULT_KIND = ImportJob.DEFAULT_KIND
Status = ImportJob.Status


def read_table(data: bytes, filename: str = "", kind: str = DEFAULT_KIND) -> Table:
    """The uploaded file as a table for ``kind``, or ``ImportFileError`` (the upload form calls it)."""
    return get_kind(kind).read(data, filename)


def guess_mapping(headers: list[str], kind: str = DEFAULT_KIND) -> dict[str, str]:
    return get_kind(kind).guess_mapping(headers)


def load_table(job: ImportJob) -> Table:
    """The job's stored file, read again (``ImportFileError`` or ``OSError`` when it cannot be)."""
    with job.file.open("rb") as handle:
        data = handle.read(reader.MAX_BYTES + 1)
    return read_table(data, job.original_name, job.kind)


def preview(job: ImportJob, mapping: dict[str, str] | None = None, table: Table | None = None) -> list[RowResult]:
    """Every row of the job's file classified with ``mapping`` (the stored one by default); reads only."""
    return get_kind(job.kind).classify(job.association, table or load_table(job), job.mapping if mapping is None
                                       else mapping)


def create_job(association: Association, actor: User, filename: str, data: bytes, *, kind: str = DEFAULT_KIND,
               request: HttpRequest | None = None, table: Table | None = None) -> ImportJob:
    """Store an uploaded file that ``read_table`` accepts (raises ``ImportFileError`` otherwise).

    ``table``: the file already read by the caller (the upload form), to avoid parsing it twice.
    """
    import_kind = get_kind(kind)
    table = table or import_kind.read(data, filename)
    name = get_valid_filename(filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:100] or "import.csv"
    with transaction.atomic():
        job = ImportJob(association=association, kind=kind, created_by=actor, original_name=filename[:255],
                        mapping=import_kind.guess_mapping(table.headers), total_rows=len(table.rows))
        job.file.save(name, ContentFile(data), save=False)
        job.save()
        audit.record(association, actor, import_kind.audit_upload, job, request=request,
                     changes={"file": filename[:255], "rows": len(table.rows)})
    return job


def _refuse_if_started(job: ImportJob) -> None:
    if job.status not in (Status.UPLOADED, Status.PREVIEWED):
        raise ServiceError(_("Cet import a déjà été lancé : la correspondance des colonnes ne peut plus changer."),
                           code="import_started")


def save_mapping(job: ImportJob, mapping: dict[str, str], table: Table | None = None) -> ImportJob:
    """Record the column mapping and compute the preview (nothing is written but the job row)."""
    _refuse_if_started(job)
    problems = mapping_errors(get_kind(job.kind), mapping)
    if problems:
        raise ServiceError(problems[0], code="invalid_mapping")
    results = preview(job, mapping, table)  # outside the transaction: it reads only
    with transaction.atomic():
        # Confirmed meanwhile (another tab)? The queued job keeps the mapping it was confirmed with.
        _refuse_if_started(ImportJob.objects.select_for_update().get(pk=job.pk))
        job.mapping = mapping
        job.summary = summarize(results)
        job.total_rows = len(results)
        job.status = Status.PREVIEWED
        job.save(update_fields=["mapping", "summary", "total_rows", "status"])
    return job


def queue_import(job: ImportJob, actor: User) -> ImportJob:
    """After the preview: hand the job to the background worker (after commit)."""
    kind = get_kind(job.kind)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != Status.PREVIEWED:
            raise ServiceError(_("Cet import a déjà été lancé."), code="import_started")
        errors = (locked.summary.get("counts") or {}).get(ERROR, 0)
        if errors:
            raise ServiceError(" ".join([
                _("Le fichier contient %(count)s ligne(s) en erreur : corrigez-les puis déposez à nouveau le "
                  "fichier.") % {"count": errors}, str(kind.wording.nothing_imported)]), code="rows_in_error")
        locked.status = Status.QUEUED
        locked.error = ""
        locked.save(update_fields=["status", "error"])
        tasks.apply_import.delay_on_commit(locked.association_id, locked.pk)
    return locked


def apply_job(association: Association, job: ImportJob) -> dict[str, int]:
    """Re-read the stored file with the stored mapping and write every row, or raise ``ImportRowsError``.

    Runs inside the caller's transaction with the job row locked.
    """
    kind = get_kind(job.kind)
    table = load_table(job)
    existing = kind.load(association)
    results = kind.classify(association, table, job.mapping, existing)
    if any(r.action == ERROR for r in results):
        raise ImportRowsError(results, kind.wording.nothing_written)
    kind.write_job(association, [r for r in results if r.action in (CREATE, UPDATE)], existing, job)
    counts = {action: sum(1 for r in results if r.action == action) for action in (CREATE, UPDATE, UNCHANGED)}
    job.status = Status.DONE
    job.processed_rows = job.total_rows = len(results)
    job.summary = {**summarize(results), "applied": counts}
    job.finished_at = timezone.now()
    job.error = ""
    job.save(update_fields=["status", "processed_rows", "total_rows", "summary", "finished_at", "error"])
    audit.record(association, job.created_by, kind.audit_apply, job,
                 changes={"job": job.pk, "file": job.original_name, "created": counts[CREATE],
                          "updated": counts[UPDATE], "unchanged": counts[UNCHANGED]})
    return counts


def run_import(association: Association, job_id: int) -> str:
    """Body of the background task: lock, skip work already done, apply atomically, record the outcome.

    ``"skipped"`` for a job unknown in ``association``, not confirmed, already running (a retried
    message while another worker has it) or finished; ``"done"`` or ``"failed"`` otherwise. Transient
    errors (``OSError``: storage, database connection) put the job back in the queue and propagate, so
    the task retries with backoff.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(association=association, pk=job_id).first()
        if job is None or job.status != Status.QUEUED:
            return "skipped"
        kind = import_kinds.get(job.kind)
        if kind is None:  # a kind no longer installed: nothing can read the file
            logger.error("Import %s of association %s: unknown kind %r", job_id, association.pk, job.kind)
            job.status, job.error, job.finished_at = Status.FAILED, _("Type d'import inconnu."), timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
            return "failed"
        job.status = Status.RUNNING
        job.started_at = timezone.now()
        job.processed_rows = 0
        job.save(update_fields=["status", "started_at", "processed_rows"])
    nothing = str(kind.wording.nothing_written)
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job_id)
            apply_job(association, job)
    except ImportRowsError as error:
        _fail(job_id, str(error), summarize(error.results))
        return "failed"
    except ImportFileError as error:
        _fail(job_id, f"{error} {capfirst(nothing)}.")
        return "failed"
    except FileNotFoundError:
        _fail(job_id, _("Le fichier déposé est introuvable : déposez-le à nouveau.") + f" {capfirst(nothing)}.")
        return "failed"
    except OSError:
        ImportJob.objects.filter(pk=job_id, status=Status.RUNNING).update(status=Status.QUEUED)
        raise
    except Exception:
        logger.exception("Import %s of association %s failed", job_id, association.pk)
        _fail(job_id, _("Erreur inattendue pendant l'import : %(nothing)s. Réessayez ou contactez l'assistance.")
              % {"nothing": nothing})
        return "failed"
    return "done"


def _fail(job_id: int, message: str, summary: dict | None = None) -> None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        job.status = Status.FAILED
        job.error = message
        job.finished_at = timezone.now()
        fields = ["status", "error", "finished_at"]
        if summary is not None:
            job.summary = summary
            fields.append("summary")
        job.save(update_fields=fields)

