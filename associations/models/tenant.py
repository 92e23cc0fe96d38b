"""The tenant and what hangs directly off it: users, roles, invitations, audit log.

Every tenant-owned model has its own ``association`` foreign key and a django-scopes ``ScopedManager``:
a query outside ``scope(association=...)`` raises ``ScopeError`` (DESIGN.md §Tenancy).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.validators import validate_finess, validate_siret


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in. Identified by e-mail; roles are granted per association."""

    username = None
    email = models.EmailField(_("adresse e-mail"), unique=True)
    language = models.CharField(
        _("langue de l'interface"), max_length=8, choices=settings.LANGUAGES, default="fr",
        help_text=_("Le français est la langue de la plateforme ; l'anglais est proposé pour les pages traduites."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


def association_logo_path(instance: Association, filename: str) -> str:
    return f"associations/{instance.pk}/logo/{filename}"


class ACISize(models.TextChoices):
    T1 = "T1", _("Taille 1 (moins de 40 000 habitants)")
    T2 = "T2", _("Taille 2 (40 000 à 80 000 habitants)")
    T3 = "T3", _("Taille 3 (80 000 à 175 000 habitants)")
    T4 = "T4", _("Taille 4 (plus de 175 000 habitants)")


def aci_size_for(population: int) -> str:
    """ACI size from the population covered (DOMAIN.md §1): T1 < 40 000 ≤ T2 < 80 000 ≤ T3 ≤ 175 000 < T4."""
    if population < 40_000:
        return ACISize.T1
    if population < 80_000:
        return ACISize.T2
    if population <= 175_000:
        return ACISize.T3
    return ACISize.T4


class Association(models.Model):
    """A CPTS: the tenant. Created by the operator (admin or ``manage.py create_association``)."""

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant d'URL"), max_length=60, unique=True)
    legal_name = models.CharField(_("dénomination légale"), max_length=255, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    finess = models.CharField(_("FINESS"), max_length=9, blank=True, validators=[validate_finess])
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    city = models.CharField(_("commune"), max_length=120, blank=True)
    territory = models.CharField(
        _("territoire"), max_length=255, blank=True, help_text=_("Communes ou cantons couverts par la CPTS.")
    )
    population = models.PositiveIntegerField(
        _("population couverte"), default=0, validators=[MinValueValidator(0)]
    )
    contact_email = models.EmailField(_("e-mail de contact"), blank=True)
    email_sender_name = models.CharField(
        _("nom d'expéditeur des e-mails"), max_length=120, blank=True,
        help_text=_("Affiché dans le champ « De » des e-mails envoyés au nom de la CPTS."),
    )
    logo = models.ImageField(_("logo"), upload_to=association_logo_path, blank=True)
    # Membership rules (statutes differ per CPTS: every rule is a setting).
    membership_period = models.CharField(
        _("période d'adhésion"), max_length=10, default="civil",
        choices=[("civil", _("Année civile")), ("rolling", _("12 mois glissants"))],
    )
    iban = models.CharField(_("IBAN"), max_length=34, blank=True,
                            help_text=_("Affiché aux adhérents qui choisissent le virement."))
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    cheque_payee = models.CharField(_("ordre des chèques"), max_length=200, blank=True)
    cheque_address = models.CharField(_("adresse d'envoi des chèques"), max_length=255, blank=True)
    mail_rate_per_minute = models.PositiveIntegerField(
        _("e-mails par minute au plus"), default=600,
        help_text=_("Limite d'envoi des campagnes et relances (selon votre fournisseur d'e-mails)."),
    )
    lapsed_review_years = models.PositiveSmallIntegerField(
        _("revue RGPD après (années sans adhésion)"), default=3,
        help_text=_("Les anciens adhérents sans adhésion depuis ce nombre d'années sont listés pour revue."),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("association (CPTS)")
        verbose_name_plural = _("associations (CPTS)")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboard", kwargs={"association_slug": self.slug})

    @property
    def aci_size(self) -> str:
        return aci_size_for(self.population)

    def get_aci_size_display(self) -> str:
        return str(ACISize(self.aci_size).label)

    @property
    def sender_name(self) -> str:
        return self.email_sender_name or self.name


class TenantModel(models.Model):
    """Base for every tenant-owned model: own ``association`` FK, scoped manager, parent check on save."""

    association = models.ForeignKey(Association, on_delete=models.CASCADE, verbose_name=_("association"))

    objects = ScopedManager(association="association")

    # Names of foreign keys whose target must belong to the same association (checked by save()).
    tenant_parents: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.check_tenant_parents()
        super().save(*args, **kwargs)

    def check_tenant_parents(self) -> None:
        for field_name in self.tenant_parents:
            parent_id = getattr(self, f"{field_name}_id", None)
            if parent_id is None:
                continue
            parent = getattr(self, field_name)
            if parent.association_id != self.association_id:
                raise ValidationError(
                    _("%(name)s.%(field_name)s appartient à une autre association.") % {
                        "name": self.__class__.__name__, "field_name": field_name}
                )


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinateur·rice")
    ASSISTANT = "assistant", _("Assistant·e")
    VIEWER = "viewer", _("Lecture seule")


class UserRole(TenantModel):
    """A staff role granted to a user in one association."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles", verbose_name=_("utilisateur")
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    is_treasurer = models.BooleanField(
        _("trésorier·ère"), default=False,
        help_text=_("Valide les paiements des cotisations (en attendant les mandats du bureau)."),
    )
    created_at = models.DateTimeField(_("depuis le"), auto_now_add=True)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("rôle")
        verbose_name_plural = _("rôles")
        constraints = [
            models.UniqueConstraint(fields=["association", "user"], name="unique_role_per_association"),
        ]
        ordering = ["user__last_name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


def _new_nonce() -> str:
    return secrets.token_urlsafe(16)


class Invitation(TenantModel):
    """An e-mailed, signed, single-use invitation to join an association with a role (valid 7 days)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        ACCEPTED = "accepted", _("Acceptée")
        EXPIRED = "expired", _("Expirée")
        REVOKED = "revoked", _("Révoquée")

    email = models.EmailField(_("adresse e-mail"))
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("invitée par"),
    )
    nonce = models.CharField(max_length=32, default=_new_nonce, editable=False)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expire le"))
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("acceptée par"),
    )
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @classmethod
    def default_expiry(cls):
        return timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self) -> str:
        return str(self.Status(self.status).label)

    @staticmethod
    def pending_q() -> models.Q:
        return models.Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
