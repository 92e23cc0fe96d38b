"""Reference data of the ACI (accord conventionnel interprofessionnel), versioned, edited by the operator.

Nothing here is tenant data: versions of the accord, the size bands by population, the mission catalogue
with its deadlines, the action types and the library of indicator templates. They ship as a data
migration (figures of DOMAIN.md §1–2) and the operator corrects them in the Django admin; code never
holds these figures as constants.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ACIVersion(models.Model):
    """A version of the national accord: ACI 2019, avenant 2 (2021/2022)…"""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("libellé"), max_length=120)
    effective_on = models.DateField(_("en vigueur le"))
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("version de l'ACI")
        verbose_name_plural = _("versions de l'ACI")
        ordering = ["effective_on"]

    def __str__(self) -> str:
        return self.label


class SizeBand(models.Model):
    """Size (taille) of a CPTS by population covered, per ACI version: T1 < 40 000, T2 40–80 000…"""

    version = models.ForeignKey(ACIVersion, on_delete=models.CASCADE, related_name="size_bands",
                                verbose_name=_("version"))
    code = models.CharField(_("taille"), max_length=4)
    min_population = models.PositiveIntegerField(_("population minimale (incluse)"))
    max_population = models.PositiveIntegerField(_("population maximale (exclue)"), null=True, blank=True,
                                                 help_text=_("Vide pour la dernière taille."))

    class Meta:
        verbose_name = _("taille de CPTS")
        verbose_name_plural = _("tailles de CPTS")
        ordering = ["version", "min_population"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="unique_size_per_version")]

    def __str__(self) -> str:
        return f"{self.code} ({self.version})"


class MissionKind(models.TextChoices):
    SOCLE = "socle", _("Socle")
    COMPLEMENTARY = "complementaire", _("Complémentaire")


class MissionType(models.Model):
    """A mission of the catalogue, with its deadlines counted from the signature of the contract."""

    version = models.ForeignKey(ACIVersion, on_delete=models.CASCADE, related_name="mission_types",
                                verbose_name=_("version"))
    code = models.SlugField(_("code"), max_length=30)
    label = models.CharField(_("libellé"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=MissionKind.choices)
    start_months = models.PositiveSmallIntegerField(
        _("démarrage dans (mois)"), null=True, blank=True,
        help_text=_("Délai de démarrage depuis la signature ; vide si le contrat le fixe (missions complémentaires)."),
    )
    deployment_months = models.PositiveSmallIntegerField(
        _("déploiement complet dans (mois)"), null=True, blank=True,
    )
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("mission du catalogue")
        verbose_name_plural = _("missions du catalogue")
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="unique_mission_type_per_version")]

    def __str__(self) -> str:
        return self.label


class Unit(models.TextChoices):
    COUNT = "count", _("Nombre")
    RATE = "rate", _("Taux (%)")
    BOOLEAN = "boolean", _("Livrable (oui / non)")
    AMOUNT = "amount", _("Montant (€)")
    DAYS = "days", _("Durée (jours)")


class Direction(models.TextChoices):
    UP = "up", _("À augmenter")
    DOWN = "down", _("À diminuer")
    REACH = "reach", _("À atteindre")


class Source(models.TextChoices):
    CPAM = "cpam", _("Données CPAM")
    CPTS = "cpts", _("Suivi de la CPTS")
    OPEN_DATA = "open_data", _("Données ouvertes (data.ameli.fr…)")


class IndicatorTemplate(models.Model):
    """A typical indicator wording of a mission, offered when the coordinator adds an indicator."""

    mission_type = models.ForeignKey(MissionType, on_delete=models.CASCADE, related_name="indicator_templates",
                                     verbose_name=_("mission"))
    label = models.CharField(_("libellé"), max_length=255)
    unit = models.CharField(_("unité"), max_length=10, choices=Unit.choices)
    direction = models.CharField(_("sens"), max_length=10, choices=Direction.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.CPTS)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("modèle d'indicateur")
        verbose_name_plural = _("modèles d'indicateurs")
        ordering = ["mission_type", "order"]

    def __str__(self) -> str:
        return self.label


class ActionType(models.Model):
    """Kinds of actions a CPTS records: réunion pluriprofessionnelle, journée de prévention…"""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("libellé"), max_length=120)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("type d'action")
        verbose_name_plural = _("types d'actions")
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label
