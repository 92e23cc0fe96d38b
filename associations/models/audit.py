"""The audit log: one row per write of the product (who did what to which object, with the changes).

Action codes and their French labels are registered by each app in ``AppConfig.ready()``
(``associations.registries.audit_actions``), so apps to the left of ``associations`` add their own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.models.tenant import TenantModel
from associations.registries import audit_action_label


class AuditLog(TenantModel):
    """One row per write of the product: who did what to which object, with the changes."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("auteur"),
    )
    actor_label = models.CharField(_("auteur (libellé)"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("type d'objet"), max_length=64, blank=True)
    target_id = models.CharField(_("identifiant"), max_length=64, blank=True)
    target_label = models.CharField(_("objet"), max_length=255, blank=True)
    changes = models.JSONField(_("modifications"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("entrée du journal")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["association", "-created_at"], name="audit_assoc_created")]

    def __str__(self) -> str:
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.action} {self.target_label}"

    @property
    def action_label(self) -> str:
        """Label of the action code, as registered by the app that writes it."""
        return audit_action_label(self.action)
