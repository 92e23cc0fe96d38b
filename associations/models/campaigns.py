"""Membership campaigns, the outbox of e-mails sent on behalf of an association, and the automatic
renewal reminders.

A campaign is written once and, at launch, becomes one ``OutgoingMail`` row per recipient, rendered
then (subject, text and HTML bodies, personal links). Workers send the rows; a row is the unit of
delivery, of retry and of tracking. No patient data: only professional addresses and e-mail events.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from associations.models.tenant import TenantModel


class CampaignKind(models.TextChoices):
    RENEWAL = "renewal", _("Renouvellement")
    JOIN = "join", _("Adhésion")
    INFO = "info", _("Information")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SCHEDULED = "scheduled", _("Programmée")
    LAUNCHED = "launched", _("Lancée")


class Campaign(TenantModel):
    """A message to a part of the member directory, chosen with the directory's own filters."""

    name = models.CharField(_("nom"), max_length=150)
    kind = models.CharField(_("type"), max_length=10, choices=CampaignKind.choices, default=CampaignKind.RENEWAL)
    # The member directory's filter values (status, profession, collège, commune, period…), as submitted.
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    subject = models.CharField(_("objet"), max_length=200)
    body = models.TextField(_("message"))
    deadline = models.DateField(_("date limite"), null=True, blank=True,
                                help_text=_("Remplace {date_limite} dans le message."))
    track_opens = models.BooleanField(_("suivre les ouvertures"), default=False,
                                      help_text=_("Ajoute une image invisible au message (désactivé par défaut)."))
    track_clicks = models.BooleanField(_("suivre les clics"), default=False,
                                       help_text=_("Les liens passent par la plateforme (désactivé par défaut)."))
    status = models.CharField(_("statut"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT, db_index=True)
    scheduled_at = models.DateTimeField(_("envoi programmé le"), null=True, blank=True)
    launched_at = models.DateTimeField(_("lancée le"), null=True, blank=True)
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("lancée par"))
    targeted_count = models.PositiveIntegerField(_("destinataires"), default=0)
    # Members matched by the filters but left out at launch: {"no_email": n, "invalid_email": n, "opted_out": n}
    # (and "no_consent": n for information letters, which go only to members who accepted them).
    excluded = models.JSONField(_("exclus"), default=dict, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("créée par"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("campagne")
        verbose_name_plural = _("campagnes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["association", "status", "scheduled_at"], name="campaign_due_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status != CampaignStatus.LAUNCHED


class MailKind(models.TextChoices):
    CAMPAIGN = "campaign", _("Campagne")
    REMINDER = "reminder", _("Relance automatique")
    TEST = "test", _("Envoi de test")


class MailStatus(models.TextChoices):
    QUEUED = "queued", _("En file d'attente")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")


def _uid() -> str:
    return secrets.token_hex(10)


class OutgoingMail(TenantModel):
    """One e-mail to one recipient, rendered when queued. The outbox row moves
    queued → sending (claimed by a worker) → sent | failed, or back to queued for a retry."""

    kind = models.CharField(_("nature"), max_length=10, choices=MailKind.choices, default=MailKind.CAMPAIGN)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="mails", verbose_name=_("campagne"))
    member = models.ForeignKey("associations.Member", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="mails", verbose_name=_("adhérent"))
    # Public identifier used in tracking links, the Message-ID and bounce reports (never the pk).
    uid = models.CharField(max_length=32, unique=True, default=_uid, editable=False)
    to_email = models.EmailField(_("destinataire"))
    subject = models.CharField(_("objet"), max_length=255)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("HTML"))
    headers = models.JSONField(_("en-têtes"), default=dict, blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=MailStatus.choices, default=MailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), default=timezone.now)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    last_error = models.TextField(_("réponse du serveur / erreur"), blank=True)
    bounced_at = models.DateTimeField(_("rebond le"), null=True, blank=True)
    opened_at = models.DateTimeField(_("ouvert le"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("cliqué le"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("ouvertures"), default=0)
    click_count = models.PositiveIntegerField(_("clics"), default=0)
    # Automatic reminders: the end of the membership period reminded about and the step (days from it).
    reminder_period_end = models.DateField(_("fin de période relancée"), null=True, blank=True)
    reminder_offset = models.SmallIntegerField(_("étape de relance (jours)"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    objects = ScopedManager(association="association")
    tenant_parents = ("campaign", "member")

    class Meta:
        verbose_name = _("e-mail envoyé")
        verbose_name_plural = _("e-mails envoyés")
        ordering = ["id"]
        constraints = [
            # One message per member and campaign, whatever retries or relaunches happen.
            models.UniqueConstraint(fields=["campaign", "member"], condition=Q(kind="campaign"),
                                    name="one_mail_per_campaign_member"),
            # A member never gets the same reminder step twice for the same period end.
            models.UniqueConstraint(fields=["member", "reminder_period_end", "reminder_offset"],
                                    condition=Q(kind="reminder"), name="one_reminder_per_step"),
        ]
        indexes = [
            models.Index(fields=["association", "status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["campaign", "status"], name="outbox_campaign_idx"),
            models.Index(fields=["status", "claimed_at"], name="outbox_stuck_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to_email} — {self.subject}"

    @property
    def message_id(self) -> str:
        return self.headers.get("Message-ID", "")


def default_offsets() -> list[int]:
    return [-30, 0, 15, 45]


class ReminderSchedule(TenantModel):
    """Automatic renewal reminders of one association, relative to the end of the membership period."""

    enabled = models.BooleanField(_("relances actives"), default=True)
    offsets = models.JSONField(_("étapes (jours par rapport à la fin de période)"), default=default_offsets)
    subject_before = models.CharField(_("objet avant l'échéance"), max_length=200)
    body_before = models.TextField(_("message avant l'échéance (et le jour même)"))
    subject_after = models.CharField(_("objet après l'échéance"), max_length=200)
    body_after = models.TextField(_("message après l'échéance"))
    track_opens = models.BooleanField(_("suivre les ouvertures"), default=False)
    track_clicks = models.BooleanField(_("suivre les clics"), default=False)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = ScopedManager(association="association")

    class Meta:
        verbose_name = _("relances automatiques")
        verbose_name_plural = _("relances automatiques")
        constraints = [models.UniqueConstraint(fields=["association"], name="one_reminder_schedule")]

    def __str__(self) -> str:
        return f"Relances ({', '.join(str(o) for o in self.offsets)})"
