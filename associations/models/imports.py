"""Import jobs: a file uploaded by the coordinator, mapped, previewed, then applied by a background job.

``kind`` names the import kind (``associations.imports.schema.import_kinds``: ``"members"``, …) that
reads, classifies and writes the rows; the job row itself is the same for every kind.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.models.tenant import TenantModel


def import_file_path(instance: ImportJob, filename: str) -> str:
    return f"associations/{instance.association_id}/imports/{filename}"


class ImportJob(TenantModel):
    """One import of a CSV/XLSX file: uploaded → mapped → previewed → applied by a background job."""

    DEFAULT_KIND = "members"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Fichier déposé")
        PREVIEWED = "previewed", _("Aperçu prêt")
        QUEUED = "queued", _("En file d'attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    kind = models.CharField(_("type d'import"), max_length=40, default=DEFAULT_KIND)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", verbose_name=_("créé par"))
    file = models.FileField(_("fichier"), upload_to=import_file_path, max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    mapping = models.JSONField(_("correspondance des colonnes"), default=dict, blank=True)
    summary = models.JSONField(_("résumé"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("lignes"), default=0)
    processed_rows = models.PositiveIntegerField(_("lignes traitées"), default=0)
    error = models.TextField(_("erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("démarré le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("import d'adhérents")
        verbose_name_plural = _("imports d'adhérents")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"
