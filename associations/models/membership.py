"""Members (persons and structures), yearly memberships (cotisations), tariffs and payments.

No patient-level data here: only professional data about health professionals and structures.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.models.tenant import TenantModel
from associations.validators import (
    rpps_warning,
    validate_adeli,
    validate_finess,
    validate_insee,
    validate_postal_code,
    validate_rpps_format,
    validate_siret,
)

ZERO = Decimal("0.00")


class Profession(models.Model):
    """Reference list of professions (Code de la santé publique + psychologue), edited by the operator."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("libellé"), max_length=120)
    has_specialty = models.BooleanField(_("a une spécialité"), default=False)
    order = models.PositiveSmallIntegerField(_("ordre"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("profession")
        verbose_name_plural = _("professions")
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label


class College(TenantModel):
    """A collège of the association (defined by its statutes)."""

    name = models.CharField(_("nom"), max_length=120)
    order = models.PositiveSmallIntegerField(_("ordre"), default=100)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("collège")
        verbose_name_plural = _("collèges")
        ordering = ["order", "name"]
        constraints = [models.UniqueConstraint(fields=["association", "name"], name="unique_college_name")]

    def __str__(self) -> str:
        return self.name


class TariffCategory(models.TextChoices):
    PERSON = "person", _("Professionnel de santé")
    STRUCTURE = "structure", _("Structure")
    STUDENT = "student", _("Étudiant·e / interne")


class Tariff(TenantModel):
    """Yearly cotisation amount per category (e.g. person 30 €, structure 100 €, students free)."""

    category = models.CharField(_("catégorie"), max_length=20, choices=TariffCategory.choices)
    amount = models.DecimalField(_("montant"), max_digits=8, decimal_places=2, validators=[MinValueValidator(ZERO)])

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("tarif")
        verbose_name_plural = _("tarifs")
        constraints = [models.UniqueConstraint(fields=["association", "category"], name="unique_tariff_category")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} : {self.amount} €"


class MemberKind(models.TextChoices):
    PERSON = "person", _("Professionnel de santé")
    STRUCTURE = "structure", _("Structure")


class MemberStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    UP_TO_DATE = "up_to_date", _("Adhérent à jour")
    TO_RENEW = "to_renew", _("À renouveler")
    RESIGNED = "resigned", _("Démissionnaire")
    STRUCK_OFF = "struck_off", _("Radié")


class PracticeMode(models.TextChoices):
    LIBERAL = "liberal", _("Libéral")
    SALARIED = "salaried", _("Salarié")
    MIXED = "mixed", _("Mixte")


class StructureType(models.TextChoices):
    MSP = "msp", _("Maison de santé pluriprofessionnelle (MSP)")
    CDS = "cds", _("Centre de santé")
    EHPAD = "ehpad", _("EHPAD")
    HOSPITAL = "hospital", _("Établissement de santé")
    SSIAD = "ssiad", _("SSIAD")
    USERS = "users", _("Association d'usagers")
    COLLECTIVITY = "collectivity", _("Collectivité")
    OTHER = "other", _("Autre")


class Civility(models.TextChoices):
    MME = "mme", _("Mme")
    M = "m", _("M.")
    DR = "dr", _("Dr")
    PR = "pr", _("Pr")


class ApplicationStatus(models.TextChoices):
    NONE = "", _("—")
    PENDING = "pending", _("Demande en attente")
    ACCEPTED = "accepted", _("Demande acceptée")
    REFUSED = "refused", _("Demande refusée")


class Member(TenantModel):
    """A member of the association: a health professional (person) or a structure."""

    kind = models.CharField(_("type"), max_length=10, choices=MemberKind.choices, default=MemberKind.PERSON)
    # Person
    civility = models.CharField(_("civilité"), max_length=4, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    last_name = models.CharField(_("nom"), max_length=100, blank=True)
    profession = models.ForeignKey(Profession, on_delete=models.PROTECT, null=True, blank=True,
                                   verbose_name=_("profession"))
    specialty = models.CharField(_("spécialité"), max_length=120, blank=True)
    practice_mode = models.CharField(_("mode d'exercice"), max_length=10, choices=PracticeMode.choices, blank=True)
    rpps = models.CharField(_("RPPS"), max_length=11, blank=True, validators=[validate_rpps_format])
    adeli = models.CharField(_("ADELI"), max_length=9, blank=True, validators=[validate_adeli])
    practice_structure = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="practitioners",
        limit_choices_to={"kind": MemberKind.STRUCTURE}, verbose_name=_("structure d'exercice"),
    )
    is_student = models.BooleanField(_("étudiant·e / interne"), default=False)
    # Structure
    structure_name = models.CharField(_("raison sociale"), max_length=200, blank=True)
    structure_type = models.CharField(_("type de structure"), max_length=20, choices=StructureType.choices,
                                      blank=True)
    finess = models.CharField(_("FINESS"), max_length=9, blank=True, validators=[validate_finess])
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    contact_person = models.CharField(_("personne à contacter"), max_length=200, blank=True)
    # Both
    email = models.EmailField(_("e-mail"), blank=True)
    email_invalid = models.BooleanField(_("adresse e-mail invalide"), default=False)
    email_bounced_at = models.DateTimeField(_("rebond définitif le"), null=True, blank=True)
    email_bounce_reason = models.CharField(_("motif du rebond"), max_length=255, blank=True)
    mail_opt_out_at = models.DateTimeField(_("désinscrit des e-mails le"), null=True, blank=True,
                                           help_text=_("Ne reçoit plus les campagnes ni les relances."))
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    address = models.CharField(_("adresse professionnelle"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True, validators=[validate_postal_code])
    city = models.CharField(_("commune"), max_length=120, blank=True)
    insee_code = models.CharField(_("code INSEE"), max_length=5, blank=True, validators=[validate_insee])
    college = models.ForeignKey(College, on_delete=models.SET_NULL, null=True, blank=True,
                                verbose_name=_("collège"))
    status = models.CharField(_("statut"), max_length=12, choices=MemberStatus.choices,
                              default=MemberStatus.PROSPECT, db_index=True)
    application_status = models.CharField(_("demande d'adhésion"), max_length=10, blank=True,
                                          choices=ApplicationStatus.choices, default=ApplicationStatus.NONE)
    joined_on = models.DateField(_("date d'adhésion"), null=True, blank=True)
    left_on = models.DateField(_("date de départ"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    newsletter_consent = models.BooleanField(_("accepte les lettres d'information"), default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="memberships_as_member", verbose_name=_("compte utilisateur"))
    anonymized_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("practice_structure", "college")

    class Meta:
        verbose_name = _("adhérent")
        verbose_name_plural = _("adhérents")
        ordering = ["last_name", "first_name", "structure_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["association", "rpps"], condition=~Q(rpps=""),
                                    name="unique_rpps_per_association"),
        ]
        indexes = [
            models.Index(fields=["association", "last_name", "first_name"], name="member_name_idx"),
            models.Index(fields=["association", "email"], name="member_email_idx"),
            models.Index(fields=["association", "status"], name="member_status_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.kind == MemberKind.STRUCTURE:
            return self.structure_name or "—"
        return " ".join(part for part in (self.first_name, self.last_name.upper()) if part) or "—"

    @property
    def tariff_category(self) -> str:
        if self.kind == MemberKind.STRUCTURE:
            return TariffCategory.STRUCTURE
        return TariffCategory.STUDENT if self.is_student else TariffCategory.PERSON

    @property
    def rpps_warning(self) -> str | None:
        return rpps_warning(self.rpps)


class MembershipStatus(models.TextChoices):
    DUE = "due", _("À régler")
    PENDING = "pending", _("En attente de paiement")
    PAID = "paid", _("Réglée")
    EXEMPT = "exempt", _("Exonérée")
    CANCELLED = "cancelled", _("Annulée")


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Virement")
    CHEQUE = "cheque", _("Chèque")
    CASH = "cash", _("Espèces")
    DIRECT_DEBIT = "direct_debit", _("Prélèvement")
    ONLINE = "online", _("En ligne")


def _reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def attestation_path(instance: Membership, filename: str) -> str:
    return f"associations/{instance.association_id}/attestations/{filename}"


class Membership(TenantModel):
    """One cotisation of one member for one period (civil year or rolling 12 months)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships",
                               verbose_name=_("adhérent"))
    period_label = models.CharField(_("période"), max_length=30)
    start_date = models.DateField(_("début"))
    end_date = models.DateField(_("fin"))
    amount_due = models.DecimalField(_("montant dû"), max_digits=8, decimal_places=2,
                                     validators=[MinValueValidator(ZERO)])
    amount_paid = models.DecimalField(_("montant réglé"), max_digits=8, decimal_places=2, default=ZERO)
    status = models.CharField(_("statut"), max_length=10, choices=MembershipStatus.choices,
                              default=MembershipStatus.DUE, db_index=True)
    chosen_method = models.CharField(_("mode de paiement choisi"), max_length=20, choices=PaymentMethod.choices,
                                     blank=True)
    payment_reference = models.CharField(_("référence de paiement"), max_length=20, default=_reference)
    number = models.CharField(_("numéro d'attestation"), max_length=30, blank=True)
    paid_on = models.DateField(_("date de paiement"), null=True, blank=True)
    attestation = models.FileField(_("attestation"), upload_to=attestation_path, blank=True, max_length=255)
    attestation_sent_at = models.DateTimeField(_("attestation envoyée le"), null=True, blank=True)
    documents_accepted_at = models.DateTimeField(_("documents acceptés le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("member",)

    class Meta:
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["member", "start_date"], name="one_membership_per_member_period"),
        ]
        indexes = [models.Index(fields=["association", "start_date", "status"], name="membership_period_idx")]

    def __str__(self) -> str:
        return f"{self.member} — {self.period_label}"

    @property
    def balance(self) -> Decimal:
        return max(self.amount_due - self.amount_paid, ZERO)

    @property
    def is_settled(self) -> bool:
        return self.status in (MembershipStatus.PAID, MembershipStatus.EXEMPT)


class Payment(TenantModel):
    """Money received (or declared) for a membership. Only validated payments count in the balance."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="payments",
                                   verbose_name=_("adhésion"))
    amount = models.DecimalField(_("montant"), max_digits=8, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    paid_on = models.DateField(_("date"), default=timezone.localdate)
    method = models.CharField(_("mode"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("référence"), max_length=100, blank=True)
    validated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("validé par"))
    validated_at = models.DateTimeField(_("validé le"), null=True, blank=True)
    created_at = models.DateTimeField(_("saisi le"), auto_now_add=True)

    objects = ScopedManager(association="association")
    tenant_parents = ("membership",)

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["-paid_on", "-id"]

    def __str__(self) -> str:
        return f"{self.amount} € ({self.get_method_display()}) {self.paid_on:%d/%m/%Y}"


class DocumentKind(models.TextChoices):
    STATUTES = "statutes", _("Statuts")
    RULES = "rules", _("Règlement intérieur")
    PRIVACY = "privacy", _("Notice d'information RGPD")


def association_document_path(instance: AssociationDocument, filename: str) -> str:
    return f"associations/{instance.association_id}/documents/{instance.kind}/{filename}"


class AssociationDocument(TenantModel):
    """Documents a member accepts when joining or renewing (the latest of each kind applies)."""

    kind = models.CharField(_("document"), max_length=20, choices=DocumentKind.choices)
    file = models.FileField(_("fichier"), upload_to=association_document_path)
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+", verbose_name=_("déposé par"))

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("document de l'association")
        verbose_name_plural = _("documents de l'association")
        ordering = ["kind", "-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.uploaded_at:%d/%m/%Y})"
