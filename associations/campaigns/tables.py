"""django-tables2 tables of the campaign screens: the campaigns and one campaign's recipients."""

from __future__ import annotations

import django_tables2 as tables
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from associations.campaigns.selectors import Progress
from associations.membership.tables import ANONYMIZED_LABEL, member_activity
from associations.models import Campaign, CampaignKind, CampaignStatus, OutgoingMail

KIND_LABELS = dict(CampaignKind.choices)
STATUS_BADGES = {
    "draft": "text-bg-light border",
    "scheduled": "text-bg-info",
    "sending": "text-bg-warning",
    "sent": "text-bg-success",
}


def _local(value, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def campaign_state(campaign: Campaign) -> tuple[str, str]:
    """(key, label) of where a campaign stands: draft, scheduled on …, sending (rows waiting), sent.

    ``waiting_count`` comes from ``selectors.campaign_list``; on the campaign page the funnel says it.
    """
    if campaign.status == CampaignStatus.DRAFT:
        return "draft", str(_("Brouillon"))
    if campaign.status == CampaignStatus.SCHEDULED:
        return "scheduled", str(_("Programmée le %(when)s")) % {"when": _local(campaign.scheduled_at)}
    if getattr(campaign, "waiting_count", 0):
        return "sending", str(_("En cours d'envoi"))
    return "sent", str(_("Envoyée"))


def campaign_date(campaign: Campaign):
    if campaign.status == CampaignStatus.LAUNCHED:
        return campaign.launched_at
    if campaign.status == CampaignStatus.SCHEDULED:
        return campaign.scheduled_at
    return campaign.created_at


class CampaignTable(tables.Table):
    name = tables.Column(verbose_name=_("Campagne"))
    kind = tables.Column(verbose_name=_("Type"))
    state = tables.Column(verbose_name=_("Statut"), accessor="status", order_by=("status", "-scheduled_at"))
    when = tables.Column(verbose_name=_("Date"), accessor="created_at", order_by=("created_at",))
    targeted_count = tables.Column(verbose_name=_("Destinataires"), attrs={"td": {"class": "text-end"}})
    sent_count = tables.Column(verbose_name=_("Envoyés"), attrs={"td": {"class": "text-end"}})
    opened_count = tables.Column(verbose_name=_("Ouverts"), attrs={"td": {"class": "text-end"}})
    clicked_count = tables.Column(verbose_name=_("Cliqués"), attrs={"td": {"class": "text-end"}})
    renewed_count = tables.Column(verbose_name=_("Renouvellements"), attrs={"td": {"class": "text-end"}})

    class Meta:
        model = Campaign
        fields = ()
        sequence = ("name", "kind", "state", "when", "targeted_count", "sent_count", "opened_count",
                    "clicked_count", "renewed_count")
        attrs = {"class": "table table-sm table-hover align-middle bg-white", "id": "campaign-table"}
        template_name = "django_tables2/bootstrap5-responsive.html"
        empty_text = _("Aucune campagne pour l'instant.")
        order_by = ("-when",)

    def __init__(self, *args, association_slug: str, **kwargs):
        self.association_slug = association_slug
        super().__init__(*args, **kwargs)

    def render_name(self, value, record):
        url = reverse("campaign_detail", kwargs={"association_slug": self.association_slug, "pk": record.pk})
        return format_html('<a href="{}">{}</a>', url, value)

    def render_kind(self, value, record):
        return KIND_LABELS.get(value, value)

    def render_state(self, value, record):
        key, label = campaign_state(record)
        return format_html('<span class="badge {}">{}</span>', STATUS_BADGES[key], label)

    def order_when(self, queryset, is_descending):
        when = Coalesce("launched_at", "scheduled_at", "created_at")
        return queryset.order_by(when.desc() if is_descending else when.asc(), "-pk" if is_descending else "pk"), True

    def render_when(self, value, record):
        return _local(campaign_date(record)) or "—"

    def _launched_number(self, value, record):
        return value if record.status == CampaignStatus.LAUNCHED else "—"

    render_targeted_count = _launched_number
    render_sent_count = _launched_number
    render_renewed_count = _launched_number

    def render_opened_count(self, value, record):
        if record.status != CampaignStatus.LAUNCHED:
            return "—"
        return value if record.track_opens else format_html('<span class="text-body-secondary small">{}</span>',
                                                            _("suivi désactivé"))

    def render_clicked_count(self, value, record):
        if record.status != CampaignStatus.LAUNCHED:
            return "—"
        return value if record.track_clicks else format_html('<span class="text-body-secondary small">{}</span>',
                                                             _("suivi désactivé"))


def recipient_name(record: OutgoingMail) -> str:
    member = record.member
    if member is None:
        return ""
    return str(ANONYMIZED_LABEL) if member.anonymized_at else member.display_name


class RecipientTable(tables.Table):
    member = tables.Column(verbose_name=_("Adhérent"), accessor="member",
                           order_by=("member__last_name", "member__structure_name", "member__first_name", "pk"))
    to_email = tables.Column(verbose_name=_("E-mail"))
    profession = tables.Column(verbose_name=_("Profession / type"), accessor="member",
                               order_by=("member__profession__label", "member__structure_type", "pk"))
    progress = tables.Column(verbose_name=_("Statut"))
    sent_at = tables.DateTimeColumn(verbose_name=_("Envoyé le"), format="d/m/Y H:i", default="")
    opened_at = tables.DateTimeColumn(verbose_name=_("Ouvert le"), format="d/m/Y H:i", default="", visible=False)
    clicked_at = tables.DateTimeColumn(verbose_name=_("Cliqué le"), format="d/m/Y H:i", default="", visible=False)
    attempts = tables.Column(verbose_name=_("Tentatives"), visible=False)
    last_error = tables.Column(verbose_name=_("Réponse du serveur"), default="",
                               attrs={"td": {"class": "small text-break"}})

    class Meta:
        model = OutgoingMail
        fields = ()
        sequence = ("member", "to_email", "profession", "progress", "sent_at", "last_error", "...")
        attrs = {"class": "table table-sm table-hover align-middle bg-white", "id": "recipient-table"}
        template_name = "django_tables2/bootstrap5-responsive.html"
        empty_text = _("Aucun destinataire ne correspond.")
        order_by = ("member",)

    def __init__(self, *args, association_slug: str, **kwargs):
        self.association_slug = association_slug
        super().__init__(*args, **kwargs)

    def render_member(self, value, record):
        if value is None:
            return "—"
        url = reverse("member_detail", kwargs={"association_slug": self.association_slug, "pk": value.pk})
        return format_html('<a href="{}">{}</a>', url, recipient_name(record))

    def value_member(self, value, record):
        return recipient_name(record)

    def render_profession(self, value, record):
        return (member_activity(value) if value is not None else "") or "—"

    def value_profession(self, value, record):
        return member_activity(value) if value is not None else ""

    def render_progress(self, value, record):
        return format_html('<span class="badge {}">{}</span>', Progress.badges.get(value, ""),
                           Progress.labels.get(value, value))

    def value_progress(self, value, record):
        return str(Progress.labels.get(value, value))

    def value_last_error(self, value, record):
        return value or ""
