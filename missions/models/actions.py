"""The actions registry: what the CPTS does for each mission (counts of participants only, no patient data)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.models import Profession, TenantModel
from missions.models.contract import ContractMission
from missions.models.reference import ActionType


class Action(TenantModel):
    """One concrete action: a prevention day, a training evening, a réunion pluriprofessionnelle…"""

    mission = models.ForeignKey(ContractMission, on_delete=models.PROTECT, related_name="actions",
                                verbose_name=_("mission"))
    action_type = models.ForeignKey(ActionType, on_delete=models.PROTECT, verbose_name=_("type"))
    title = models.CharField(_("intitulé"), max_length=200)
    date = models.DateField(_("date"))
    place = models.CharField(_("lieu"), max_length=200, blank=True)
    partners = models.CharField(_("partenaires"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("saisie par"))
    created_at = models.DateTimeField(_("saisie le"), auto_now_add=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("mission",)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["association", "date"], name="action_assoc_date")]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%d/%m/%Y})"


class ActionParticipation(TenantModel):
    """How many professionals of one profession took part (a count, never names of patients)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="participations",
                               verbose_name=_("action"))
    profession = models.ForeignKey(Profession, on_delete=models.PROTECT, null=True, blank=True,
                                   verbose_name=_("profession"), help_text=_("Vide : autres participants."))
    count = models.PositiveIntegerField(_("participants"))

    objects = ScopedManager(association="association")
    tenant_parents = ("action",)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [models.UniqueConstraint(fields=["action", "profession"], name="unique_profession_per_action")]

    def __str__(self) -> str:
        return f"{self.profession or _('Autres')} : {self.count}"
