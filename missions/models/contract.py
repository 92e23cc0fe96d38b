"""The tripartite ACI contract (CPTS, CPAM, ARS), its avenants and the missions it covers.

Tenant data: every model has its own ``association`` foreign key and a scoped manager.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.models import ACISize, Member, TenantModel
from missions import calendar
from missions.models.reference import ACIVersion, MissionKind, MissionType


def contract_file_path(instance: models.Model, filename: str) -> str:
    return f"associations/{instance.association_id}/contrat/{filename}"


class Contract(TenantModel):
    """The contract signed with the CPAM and the ARS for five contract years."""

    version = models.ForeignKey(ACIVersion, on_delete=models.PROTECT, verbose_name=_("version de l'ACI"))
    number = models.CharField(_("numéro du contrat"), max_length=60, blank=True)
    signed_on = models.DateField(_("date de signature"))
    size_override = models.CharField(_("taille retenue"), max_length=4, choices=ACISize.choices, blank=True,
                                     help_text=_("Vide : la taille découle de la population couverte."))
    size_override_reason = models.CharField(_("motif de la taille retenue"), max_length=255, blank=True)
    cpts_signatory = models.CharField(_("signataire pour la CPTS"), max_length=200, blank=True)
    cpam_name = models.CharField(_("CPAM"), max_length=200)
    ars_name = models.CharField(_("ARS"), max_length=200)
    achievement_cap = models.DecimalField(
        _("plafond d'atteinte par indicateur (%)"), max_digits=5, decimal_places=1, default=100,
        help_text=_("Au-delà, un indicateur ne compte pas davantage dans la part variable (100 % en général)."),
    )
    document = models.FileField(_("contrat signé (PDF)"), upload_to=contract_file_path, blank=True, max_length=255)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("contrat ACI")
        verbose_name_plural = _("contrats ACI")
        ordering = ["-signed_on"]
        constraints = [models.UniqueConstraint(fields=["association", "signed_on"], name="unique_contract_date")]

    def __str__(self) -> str:
        return _("Contrat ACI signé le %(date)s") % {"date": f"{self.signed_on:%d/%m/%Y}"}

    @property
    def size(self) -> str:
        return self.size_override or self.association.aci_size

    @property
    def years(self) -> list[calendar.ContractYear]:
        return calendar.contract_years(self.signed_on)

    def year_of(self, day: date) -> calendar.ContractYear | None:
        return calendar.year_of(self.signed_on, day)


class Avenant(TenantModel):
    """An amendment to the contract: what it changes, its PDF. Deadlines and targets it moves refer to it."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="avenants",
                                 verbose_name=_("contrat"))
    number = models.PositiveSmallIntegerField(_("numéro"))
    signed_on = models.DateField(_("date de signature"))
    summary = models.TextField(_("ce qu'il modifie"))
    document = models.FileField(_("avenant signé (PDF)"), upload_to=contract_file_path, blank=True, max_length=255)

    objects = ScopedManager(association="association")
    tenant_parents = ("contract",)

    class Meta:
        verbose_name = _("avenant")
        verbose_name_plural = _("avenants")
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="unique_avenant_number")]

    def __str__(self) -> str:
        return _("Avenant n° %(number)s du %(date)s") % {"number": self.number, "date": f"{self.signed_on:%d/%m/%Y}"}


class MissionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Non démarrée")
    STARTED = "started", _("Démarrée")
    DEPLOYED = "deployed", _("Déployée")


class ContractMission(TenantModel):
    """A mission chosen in the contract (socle ones always), its référent and its progress."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="missions",
                                 verbose_name=_("contrat"))
    mission_type = models.ForeignKey(MissionType, on_delete=models.PROTECT, verbose_name=_("mission"))
    status = models.CharField(_("état"), max_length=20, choices=MissionStatus.choices,
                              default=MissionStatus.NOT_STARTED)
    started_on = models.DateField(_("démarrée le"), null=True, blank=True)
    deployed_on = models.DateField(_("déployée le"), null=True, blank=True)
    referent = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("référent PS"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("suivie par"))
    start_months = models.PositiveSmallIntegerField(_("démarrage dans (mois)"), null=True, blank=True,
                                                    help_text=_("Vide : délai du catalogue."))
    deployment_months = models.PositiveSmallIntegerField(_("déploiement dans (mois)"), null=True, blank=True,
                                                         help_text=_("Vide : délai du catalogue."))

    objects = ScopedManager(association="association")
    tenant_parents = ("contract", "referent")

    class Meta:
        verbose_name = _("mission du contrat")
        verbose_name_plural = _("missions du contrat")
        ordering = ["contract", "mission_type__order"]
        constraints = [models.UniqueConstraint(fields=["contract", "mission_type"], name="unique_mission_per_contract")]

    def __str__(self) -> str:
        return str(self.mission_type)

    @property
    def is_socle(self) -> bool:
        return self.mission_type.kind == MissionKind.SOCLE


class DeadlineKind(models.TextChoices):
    START = "start", _("Démarrage")
    DEPLOYMENT = "deployment", _("Déploiement complet")


class DeadlineChange(TenantModel):
    """A deadline moved (usually by an avenant); the latest change wins, the history stays visible."""

    mission = models.ForeignKey(ContractMission, on_delete=models.CASCADE, related_name="deadline_changes",
                                verbose_name=_("mission"))
    kind = models.CharField(_("échéance"), max_length=12, choices=DeadlineKind.choices)
    due_on = models.DateField(_("nouvelle date"))
    avenant = models.ForeignKey(Avenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("avenant"))
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("saisi par"))
    created_at = models.DateTimeField(_("saisi le"), auto_now_add=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("mission", "avenant")

    class Meta:
        verbose_name = _("report d'échéance")
        verbose_name_plural = _("reports d'échéance")
        ordering = ["mission", "kind", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.mission} — {self.get_kind_display()} → {self.due_on:%d/%m/%Y}"
