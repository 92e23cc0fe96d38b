"""Indicators of the contract's missions, their values per contract year and the evidence (livrables).

Counts, rates and documents about actions only: never patient-level data (DOMAIN.md §2).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.models import TenantModel
from missions.calendar import CONTRACT_YEARS
from missions.models import Action, ActionType, Avenant, ContractMission, Direction, IndicatorTemplate, Source, Unit


class Feed(models.TextChoices):
    MANUAL = "manual", _("Saisie")
    ACTION_COUNT = "action_count", _("Nombre d'actions d'un type")
    PARTICIPANTS = "participants", _("Participants aux actions d'un type")


class Indicator(TenantModel):
    """One indicator of a mission, with its unit, direction, weight and source."""

    mission = models.ForeignKey(ContractMission, on_delete=models.CASCADE, related_name="indicators",
                                verbose_name=_("mission"))
    template = models.ForeignKey(IndicatorTemplate, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("modèle"))
    code = models.CharField(_("code"), max_length=30, blank=True,
                            help_text=_("Référence utilisée par la CPAM dans ses fichiers (facultatif)."))
    label = models.CharField(_("libellé"), max_length=255)
    unit = models.CharField(_("unité"), max_length=10, choices=Unit.choices)
    direction = models.CharField(_("sens"), max_length=10, choices=Direction.choices)
    weight = models.DecimalField(_("poids dans la mission"), max_digits=6, decimal_places=2, default=1,
                                 validators=[MinValueValidator(0)])
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.CPTS)
    feed = models.CharField(_("valeur réalisée"), max_length=15, choices=Feed.choices, default=Feed.MANUAL)
    feed_action_type = models.ForeignKey(ActionType, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("type d'action comptée"))
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = ScopedManager(association="association")
    tenant_parents = ("mission",)

    class Meta:
        verbose_name = _("indicateur")
        verbose_name_plural = _("indicateurs")
        ordering = ["mission", "order", "id"]

    def __str__(self) -> str:
        return self.label


class IndicatorValue(TenantModel):
    """Baseline, target and realised value of an indicator for one contract year."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values",
                                  verbose_name=_("indicateur"))
    year = models.PositiveSmallIntegerField(_("année du contrat"),
                                            validators=[MinValueValidator(1), MaxValueValidator(CONTRACT_YEARS)])
    baseline = models.DecimalField(_("valeur initiale"), max_digits=14, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(_("objectif"), max_digits=14, decimal_places=2, null=True, blank=True)
    realised = models.DecimalField(_("réalisé"), max_digits=14, decimal_places=2, null=True, blank=True)
    measured_on = models.DateField(_("mesuré le"), null=True, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("saisi par"))
    entered_at = models.DateTimeField(_("saisi le"), null=True, blank=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("indicator",)

    class Meta:
        verbose_name = _("valeur d'indicateur")
        verbose_name_plural = _("valeurs d'indicateurs")
        ordering = ["indicator", "year"]
        constraints = [models.UniqueConstraint(fields=["indicator", "year"], name="unique_value_per_year")]

    def __str__(self) -> str:
        return f"{self.indicator} — {_('année')} {self.year}"


class TargetRevision(TenantModel):
    """A target changed after signature (by an avenant): the old value is kept."""

    value = models.ForeignKey(IndicatorValue, on_delete=models.CASCADE, related_name="revisions",
                              verbose_name=_("valeur"))
    old_target = models.DecimalField(_("ancien objectif"), max_digits=14, decimal_places=2, null=True)
    new_target = models.DecimalField(_("nouvel objectif"), max_digits=14, decimal_places=2, null=True)
    avenant = models.ForeignKey(Avenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("avenant"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("le"), auto_now_add=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("value", "avenant")

    class Meta:
        verbose_name = _("révision d'objectif")
        verbose_name_plural = _("révisions d'objectifs")
        ordering = ["value", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.value} : {self.old_target} → {self.new_target}"


class EvidenceKind(models.TextChoices):
    SIGN_IN = "sign_in", _("Feuille d'émargement")
    MINUTES = "minutes", _("Compte rendu")
    PROTOCOL = "protocol", _("Protocole")
    SCREENSHOT = "screenshot", _("Capture d'écran")
    CPAM_DATA = "cpam_data", _("Données CPAM")
    OTHER = "other", _("Autre document")


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"associations/{instance.association_id}/livrables/{filename}"


class Evidence(TenantModel):
    """A file proving an indicator-year's value or an action (livrable), served by scoped views only."""

    value = models.ForeignKey(IndicatorValue, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="evidence", verbose_name=_("valeur d'indicateur"))
    action = models.ForeignKey(Action, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="evidence", verbose_name=_("action"))
    kind = models.CharField(_("type"), max_length=12, choices=EvidenceKind.choices)
    title = models.CharField(_("titre"), max_length=200)
    date = models.DateField(_("date du document"))
    file = models.FileField(_("fichier"), upload_to=evidence_path, max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+", verbose_name=_("déposé par"))
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("value", "action")

    class Meta:
        verbose_name = _("livrable")
        verbose_name_plural = _("livrables")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__isnull=False) | models.Q(action__isnull=False),
                name="evidence_has_a_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.title
