"""Writes about campaigns, the outbox and e-mail consent: one transactional function per write,
explicit actor, an audit row, sending enqueued after commit (DESIGN.md §Where code goes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parseaddr
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from associations import audit
from associations.campaigns import outbox, rendering, tokens
from associations.mail import from_address
from associations.membership.services import renewal_url
from associations.models import (
    Association,
    Campaign,
    CampaignKind,
    CampaignStatus,
    MailKind,
    MailStatus,
    Member,
    MemberStatus,
    OutgoingMail,
    Tariff,
    User,
)
from associations.models.campaigns import _uid
from associations.money import format_euros
from associations.services import ServiceError

SAMPLE_SIZE = 10
BULK_BATCH = 500


# --- Audience ------------------------------------------------------------------------------------


@dataclass
class AudienceSummary:
    matched: int                       # members matched by the filters
    recipients: int                    # ... who will receive the message
    excluded: dict[str, int]           # no_email, invalid_email, opted_out (+ no_consent for information)
    sample: list[Member] = field(default_factory=list)

    EXCLUSION_LABELS = {
        "no_email": "sans adresse e-mail",
        "invalid_email": "adresse invalide (rebond)",
        "opted_out": "désinscrits",
        "no_consent": "sans accord pour les lettres d'information",
    }

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    def excluded_display(self) -> list[tuple[str, int]]:
        return [(self.EXCLUSION_LABELS[key], count) for key, count in self.excluded.items() if count]


def _filterset(association: Association, data: dict[str, Any]):
    from associations.membership.filters import MemberFilter

    clean = {key: value for key, value in (data or {}).items() if key in MemberFilter.Meta.fields and value}
    base = Member.objects.filter(association=association)
    return MemberFilter(clean or None, queryset=base, request=SimpleNamespace(association=association))


def audience_errors(association: Association, data: dict[str, Any]) -> dict[str, list[str]]:
    filterset = _filterset(association, data)
    if filterset.is_bound and not filterset.is_valid():
        return {name: list(errors) for name, errors in filterset.form.errors.items()}
    return {}


def matched_members(association: Association, data: dict[str, Any]) -> QuerySet[Member]:
    """Members matched by the directory's filters; without a status filter, departed members are left out."""
    filterset = _filterset(association, data)
    if filterset.is_bound and not filterset.is_valid():
        raise ServiceError(_("Les filtres de l'audience sont invalides : corrigez-les avant d'enregistrer."))
    members = filterset.qs.filter(anonymized_at=None)
    if not (data or {}).get("status"):
        members = members.exclude(status__in=[MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF])
    return members


def _opted_out_q(kind: str) -> Q:
    opted = Q(mail_opt_out_at__isnull=False)
    if kind == CampaignKind.INFO:
        opted |= Q(newsletter_consent=False)  # information letters go to those who accepted them
    return opted


def _sendable_q(kind: str) -> Q:
    return ~Q(email="") & Q(email_invalid=False) & ~_opted_out_q(kind)


def recipients_of(association: Association, kind: str, data: dict[str, Any]) -> QuerySet[Member]:
    return matched_members(association, data).filter(_sendable_q(kind))


def summarize_audience(association: Association, kind: str, data: dict[str, Any], *,
                       sample: int = SAMPLE_SIZE) -> AudienceSummary:
    """Counts (one query) and a sample of recipients (one query), whatever the audience size (plus the
    directory filter's own query for its city choices)."""
    members = matched_members(association, data)
    has_email = ~Q(email="")
    counts = members.aggregate(
        matched=Count("id"),
        no_email=Count("id", filter=Q(email="")),
        invalid_email=Count("id", filter=has_email & Q(email_invalid=True)),
        opted_out=Count("id", filter=has_email & Q(email_invalid=False, mail_opt_out_at__isnull=False)),
        no_consent=Count("id", filter=has_email & Q(email_invalid=False, mail_opt_out_at__isnull=True)
                         & _opted_out_q(kind)),
    )
    excluded = {key: counts[key] for key in ("no_email", "invalid_email", "opted_out")}
    if kind == CampaignKind.INFO:
        excluded["no_consent"] = counts["no_consent"]
    rows = list(members.filter(_sendable_q(kind)).select_related("profession")[:sample]) if sample else []
    return AudienceSummary(matched=counts["matched"], recipients=counts["matched"] - sum(excluded.values()),
                           excluded=excluded, sample=rows)


# --- Rendering -----------------------------------------------------------------------------------


def long_date(day: date | None) -> str:
    if day is None:
        return ""
    with translation.override("fr"):
        return formats.date_format(day, "j F Y")


def _domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "cpts.localhost"


class Renderer:
    """Renders one message (subject + body) for many recipients of one association."""

    def __init__(self, association: Association, *, subject: str, body: str, kind_label: str,
                 deadline: date | None = None, track_opens: bool = False, track_clicks: bool = False,
                 test: bool = False):
        for name, text in (("subject", subject), ("body", body)):
            try:
                rendering.validate_template(text)
            except rendering.TemplateError as error:
                raise ServiceError(str(error), field=name, code="template") from None
        self.association = association
        self.subject = subject
        self.body = body
        self.deadline = deadline
        self.track_opens = track_opens
        self.track_clicks = track_clicks
        self.test = test
        used = set(rendering.parse_fields(subject)) | set(rendering.parse_fields(body))
        self.needs_link = "lien_renouvellement" in used
        self.needs_amount = "montant" in used
        if "date_limite" in used and deadline is None:
            raise ServiceError(_("Le message utilise {date_limite} : indiquez la date limite."), field="deadline",
                               code="deadline_required")
        self.tariffs = (dict(Tariff.objects.filter(association=association).values_list("category", "amount"))
                        if self.needs_amount else {})
        self.layout = rendering.Layout.for_association(association, kind_label=kind_label)
        self.body_html = rendering.body_to_html(body)
        self.from_email = from_address(association)
        self.reply_to = association.contact_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        self.list_id = f"{association.name} <{association.slug}.{association.pk}.cpts>"

    def values(self, member: Member, *, deadline: date | None = None) -> dict[str, str]:
        values = {
            "prenom": member.first_name if member.kind == "person" else "",
            "nom": member.last_name if member.kind == "person" else member.structure_name,
            "association": self.association.name,
            "date_limite": long_date(deadline or self.deadline),
            "lien_renouvellement": "",
            "montant": "",
        }
        if self.needs_link:
            member.association = self.association  # same row: spares a query per recipient
            values["lien_renouvellement"] = renewal_url(member)
        if self.needs_amount:
            amount = self.tariffs.get(member.tariff_category)
            if amount is None:
                raise ServiceError(
                    _("Le message utilise {montant} mais aucun tarif n'est défini pour la catégorie "
                      "« %(category)s » : renseignez les tarifs dans les paramètres des adhésions.") % {
                        "category": member.tariff_category}
                )
            values["montant"] = format_euros(amount)
        return values

    def render(self, member: Member, uid: str, *, to_email: str | None = None,
               deadline: date | None = None) -> dict[str, Any]:
        """Fields of an OutgoingMail row for ``member`` (``uid`` names the row in links and headers)."""
        values = self.values(member, deadline=deadline)
        association = self.association
        link = ((lambda url: tokens.click_url(association, uid, url)) if self.track_clicks and not self.test
                else (lambda url: url))
        body_text = rendering.fill_text(self.body, values)
        body_html = rendering.fill_html(self.body_html, values, link)
        unsubscribe = tokens.unsubscribe_url(association, member.pk, test=self.test)
        pixel = tokens.open_url(association, uid) if self.track_opens and not self.test else ""
        text, html = self.layout.render(body_text=body_text, body_html=body_html, unsubscribe_url=unsubscribe,
                                        pixel_url=pixel)
        subject = " ".join(rendering.fill_text(self.subject, values).split())
        token = unsubscribe.rstrip("/").rpartition("/")[2]
        headers = {
            "From": self.from_email,
            "Reply-To": self.reply_to,
            "Message-ID": f"<{uid}.{association.pk}@{_domain()}>",
            "List-Id": self.list_id,
            "List-Unsubscribe": f"<mailto:{self.reply_to}?subject={quote('unsubscribe ' + token)}>, <{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return {"uid": uid, "to_email": to_email or member.email, "subject": ("[TEST] " if self.test else "") +
                subject, "body_text": text, "body_html": html, "headers": headers}


def campaign_renderer(campaign: Campaign, *, test: bool = False) -> Renderer:
    try:
        return Renderer(campaign.association, subject=campaign.subject, body=campaign.body,
                        kind_label=f"campagne « {campaign.name} »", deadline=campaign.deadline,
                        track_opens=campaign.track_opens, track_clicks=campaign.track_clicks, test=test)
    except rendering.TemplateError as error:
        raise ServiceError(str(error)) from None


def preview(campaign: Campaign, member: Member) -> dict[str, Any]:
    """The message as ``member`` would receive it (links are real, nothing is tracked or stored)."""
    return campaign_renderer(campaign, test=True).render(member, "apercu")


# --- Campaigns -----------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ["name", "kind", "audience", "subject", "body", "deadline", "track_opens", "track_clicks"]


def save_campaign(association: Association, actor: User | None, data: dict[str, Any], *,
                  campaign: Campaign | None = None, request: HttpRequest | None = None) -> Campaign:
    """Create or update a campaign that is not launched yet (placeholders checked, audience filters checked)."""
    for name in ("subject", "body"):
        try:
            rendering.validate_template(data.get(name, ""))
        except rendering.TemplateError as error:
            raise ServiceError(str(error), field=name, code="template") from None
    if audience_errors(association, data.get("audience") or {}):
        raise ServiceError(_("Les filtres de l'audience sont invalides."))
    with transaction.atomic():
        if campaign is None:
            campaign = Campaign(association=association, created_by=actor if actor and actor.pk else None)
            action, before = "campaign.create", {}
        else:
            campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if not campaign.is_editable:
                raise ServiceError(_("Cette campagne est déjà lancée : elle ne peut plus être modifiée."))
            action, before = "campaign.update", {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}
        for name in CAMPAIGN_FIELDS:
            if name in data:
                setattr(campaign, name, data[name])
        campaign.save()
        changes = audit.diff(campaign, before, CAMPAIGN_FIELDS) if before else {"kind": campaign.kind}
        audit.record(association, actor, action, campaign, changes=changes, request=request)
    return campaign


def schedule_campaign(campaign: Campaign, actor: User, when: datetime, request: HttpRequest | None = None) -> Campaign:
    if when <= timezone.now():
        raise ServiceError(_("Choisissez une date et une heure à venir."))
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status == CampaignStatus.LAUNCHED:
            raise ServiceError(_("Cette campagne est déjà lancée."))
        _check_launchable(campaign)
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_at = when
        campaign.last_error = ""
        campaign.save(update_fields=["status", "scheduled_at", "last_error", "updated_at"])
        audit.record(campaign.association, actor, "campaign.schedule", campaign, request=request,
                     changes={"scheduled_at": timezone.localtime(when).strftime("%d/%m/%Y %H:%M")})
    return campaign


def unschedule_campaign(campaign: Campaign, actor: User, request: HttpRequest | None = None) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.SCHEDULED:
            raise ServiceError(_("Cette campagne n'est pas programmée."))
        campaign.status = CampaignStatus.DRAFT
        campaign.scheduled_at = None
        campaign.save(update_fields=["status", "scheduled_at", "updated_at"])
        audit.record(campaign.association, actor, "campaign.unschedule", campaign, request=request)
    return campaign


def _check_launchable(campaign: Campaign) -> AudienceSummary:
    summary = summarize_audience(campaign.association, campaign.kind, campaign.audience, sample=0)
    if summary.recipients == 0:
        raise ServiceError(_("L'audience est vide : aucun adhérent ne recevrait ce message. Modifiez les filtres."))
    campaign_renderer(campaign)  # placeholders, deadline
    return summary


def launch_campaign(campaign: Campaign, actor: User | None, request: HttpRequest | None = None) -> int:
    """Render one outbox row per recipient, in one transaction, and start sending after commit.

    Returns the number of rows queued. A launched campaign cannot be launched again (row lock), and the
    unique (campaign, member) constraint makes a second row for the same member impossible.
    """
    association = campaign.association
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.association = association
        if campaign.status == CampaignStatus.LAUNCHED:
            raise ServiceError(_("Cette campagne est déjà lancée."))
        summary = _check_launchable(campaign)
        renderer = campaign_renderer(campaign)
        now = timezone.now()
        members = recipients_of(association, campaign.kind, campaign.audience).order_by("id")
        rows = []
        for member in members.iterator(chunk_size=1000):
            rows.append(OutgoingMail(association=association, kind=MailKind.CAMPAIGN, campaign=campaign,
                                     member=member, next_attempt_at=now, created_at=now,
                                     **renderer.render(member, _uid())))
        OutgoingMail.objects.bulk_create(rows, batch_size=BULK_BATCH)
        campaign.status = CampaignStatus.LAUNCHED
        campaign.launched_at = now
        campaign.launched_by = actor if actor is not None and actor.pk else None
        campaign.targeted_count = len(rows)
        campaign.excluded = summary.excluded
        campaign.last_error = ""
        campaign.save(update_fields=["status", "launched_at", "launched_by", "targeted_count", "excluded",
                                     "last_error", "updated_at"])
        audit.record(association, actor, "campaign.launch", campaign, request=request,
                     changes={"recipients": len(rows), **summary.excluded})
        enqueue_sending(association)
    return len(rows)


def launch_due_campaigns(association: Association, now: datetime | None = None) -> int:
    """Launch the scheduled campaigns whose time has come (called by the periodic sweep)."""
    now = now or timezone.now()
    launched = 0
    for campaign in Campaign.objects.filter(association=association, status=CampaignStatus.SCHEDULED,
                                            scheduled_at__lte=now):
        campaign.association = association
        try:
            launch_campaign(campaign, None)
            launched += 1
        except ServiceError as error:
            with transaction.atomic():
                # Only a campaign still scheduled goes back to draft (another sweep may have launched it).
                if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
                        status=CampaignStatus.DRAFT, last_error=str(error)[:255], updated_at=now):
                    audit.record(association, None, "campaign.launch_failed", campaign,
                                 changes={"error": str(error)})
    return launched


def send_test(campaign: Campaign, actor: User, member: Member | None = None,
              request: HttpRequest | None = None) -> OutgoingMail:
    """Queue the message rendered for ``member`` (or the first recipient) to the actor's own address."""
    if not actor.email:
        raise ServiceError(_("Votre compte n'a pas d'adresse e-mail."))
    association = campaign.association
    if member is None:
        member = recipients_of(association, campaign.kind, campaign.audience).order_by("id").first()
    if member is None:
        member = Member.objects.filter(association=association, anonymized_at=None).order_by("id").first()
    if member is None:
        raise ServiceError(_("Ajoutez au moins un adhérent pour faire un envoi de test."))
    renderer = campaign_renderer(campaign, test=True)
    with transaction.atomic():
        row = OutgoingMail.objects.create(association=association, kind=MailKind.TEST, campaign=campaign,
                                          member=member, **renderer.render(member, _uid(), to_email=actor.email))
        audit.record(association, actor, "campaign.test_send", campaign, request=request,
                     changes={"to": actor.email, "member": member.display_name})
        enqueue_sending(association)
    return row


def enqueue_sending(association: Association, *, after_commit: bool = True) -> None:
    """Start a sender of the association's outbox after the current transaction commits, or at once (the
    periodic sweep, which runs outside any transaction)."""
    # Imported here: the tasks module imports this one (its tasks call these services).
    from associations.campaigns.tasks import send_outbox

    if after_commit:
        send_outbox.delay_on_commit(association.pk)
    else:
        send_outbox.delay(association.pk)


def sweep(association: Association) -> dict[str, int]:
    """The periodic sweep of one association: rows stuck in a dead worker go back to the queue, scheduled
    campaigns whose time has come are launched, and a sender starts whenever e-mails are due (a lost broker
    message cannot strand a row)."""
    requeued = outbox.requeue_stuck(association)
    launched = launch_due_campaigns(association)
    if requeued or outbox.due_rows(association).exists():
        enqueue_sending(association, after_commit=False)
    return {"requeued": requeued, "launched": launched}


# --- Consent and bounces ------------------------------------------------------------------------


def _cancel_queued(members: Iterable[int], reason: str) -> int:
    return OutgoingMail.objects.filter(member_id__in=list(members), status=MailStatus.QUEUED).update(
        status=MailStatus.CANCELLED, last_error=reason)


def unsubscribe(member: Member, *, via: str, actor: User | None = None, request: HttpRequest | None = None) -> bool:
    """The member stops receiving campaigns and reminders. Returns False when they already had."""
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.mail_opt_out_at is not None:
            return False
        member.mail_opt_out_at = timezone.now()
        member.newsletter_consent = False
        member.save(update_fields=["mail_opt_out_at", "newsletter_consent", "updated_at"])
        _cancel_queued([member.pk], "Désinscrit avant l'envoi.")
        audit.record(member.association, actor, "member.unsubscribe", member, request=request, changes={"via": via})
    return True


def resubscribe(member: Member, actor: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        member.mail_opt_out_at = None
        member.save(update_fields=["mail_opt_out_at", "updated_at"])
        audit.record(member.association, actor, "member.resubscribe", member, request=request)


BOUNCE_KINDS = ("hard", "soft")


def record_bounce(association: Association, email: str, *, kind: str = "hard", reason: str = "",
                  uid: str = "", actor: User | None = None, request: HttpRequest | None = None) -> int:
    """Record a bounce reported by the mail provider (webhook) or an operator (command).

    A hard bounce marks the address invalid on every member of the association using it: they are
    left out of campaigns and reminders until the address is corrected. Returns the members marked.
    """
    if kind not in BOUNCE_KINDS:
        raise ServiceError(_("Type de rebond inconnu : « hard » (définitif) ou « soft » (temporaire)."))
    email = (email or "").strip()
    if not email or "@" not in email:
        raise ServiceError(_("Adresse e-mail manquante ou invalide."))
    reason = (reason or ("Rebond définitif" if kind == "hard" else "Rebond temporaire"))[:255]
    now = timezone.now()
    marked = 0
    with transaction.atomic():
        rows = OutgoingMail.objects.filter(association=association, to_email__iexact=email)
        if uid:
            rows = rows.filter(uid=uid)
        else:
            rows = rows.filter(pk__in=rows.filter(status=MailStatus.SENT).order_by("-sent_at").values("pk")[:1])
        updates: dict[str, Any] = {"bounced_at": now, "last_error": reason}
        if kind == "hard":
            updates["status"] = MailStatus.FAILED
        rows.update(**updates)
        if kind == "hard":
            members = list(Member.objects.select_for_update().filter(
                association=association, email__iexact=email, anonymized_at=None))
            for member in members:
                member.email_invalid = True
                member.email_bounced_at = now
                member.email_bounce_reason = reason
                member.save(update_fields=["email_invalid", "email_bounced_at", "email_bounce_reason",
                                           "updated_at"])
                audit.record(association, actor, "member.bounce", member, request=request,
                             changes={"email": email, "kind": kind, "reason": reason})
            _cancel_queued([m.pk for m in members], "Adresse invalide (rebond définitif).")
            marked = len(members)
    return marked
