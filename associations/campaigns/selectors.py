"""Read models of the campaign screens: the list with its counts, the funnel (targeted → sent → opened →
clicked → renewed), the same funnel by profession, the live progress and the recipients' statuses.

Each function costs a fixed number of queries, whatever the number of campaigns or recipients.

A recipient has **renewed** when, after the e-mail was sent, they have a membership that is not
cancelled (paid, exempt, or declared and awaiting validation), for a period still running after the
sending (an older period recorded later — an import — does not count), created, paid or declared after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext_lazy as _

from associations.models import (
    Association,
    Campaign,
    College,
    MailKind,
    MailStatus,
    Membership,
    MembershipStatus,
    OutgoingMail,
    Profession,
)

RENEWED_STATUSES = [MembershipStatus.PAID, MembershipStatus.EXEMPT, MembershipStatus.PENDING]
WAITING = [MailStatus.QUEUED, MailStatus.SENDING]


class Progress:
    """The most advanced step a recipient reached (``?statut=`` values of the recipients list)."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OPENED = "opened"
    CLICKED = "clicked"
    RENEWED = "renewed"

    choices = [
        (QUEUED, _("En attente")),
        (SENT, _("Envoyé")),
        (OPENED, _("Ouvert")),
        (CLICKED, _("Cliqué")),
        (RENEWED, _("A renouvelé")),
        (FAILED, _("Échec")),
        (CANCELLED, _("Annulé")),
    ]
    labels = dict(choices)
    badges = {
        QUEUED: "text-bg-light border",
        SENT: "text-bg-secondary",
        OPENED: "text-bg-info",
        CLICKED: "text-bg-primary",
        RENEWED: "text-bg-success",
        FAILED: "text-bg-danger",
        CANCELLED: "text-bg-light border",
    }


# --- Building blocks -----------------------------------------------------------------------------


def _outer_datetime(name: str) -> ExpressionWrapper:
    return ExpressionWrapper(OuterRef(name), output_field=DateTimeField())


def renewed_after_sending(association: Association) -> Exists:
    """For an outbox row (the outer query): did the member renew after it was sent? ``paid_on`` is a
    date: a payment dated the day of the sending counts."""
    after = (Q(created_at__gt=OuterRef("sent_at")) | Q(paid_on__gte=TruncDate(_outer_datetime("sent_at")))
             | Q(documents_accepted_at__gt=OuterRef("sent_at")))
    return Exists(
        Membership.objects.filter(association=association, member=OuterRef("member"), status__in=RENEWED_STATUSES,
                                  end_date__gt=TruncDate(_outer_datetime("sent_at")))
        .filter(after)
    )


def renewed_q(association: Association) -> Q:
    return Q(sent_at__isnull=False) & Q(renewed_after_sending(association))


def campaign_mails(association: Association, campaign: Campaign | None = None) -> QuerySet[OutgoingMail]:
    """Campaign rows (never test sends) annotated with ``progress`` (a Progress value)."""
    rows = OutgoingMail.objects.filter(association=association, kind=MailKind.CAMPAIGN)
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    return (
        rows.annotate(progress=Case(
            When(status=MailStatus.FAILED, then=Value(Progress.FAILED)),
            When(status=MailStatus.CANCELLED, then=Value(Progress.CANCELLED)),
            When(status__in=WAITING, then=Value(Progress.QUEUED)),
            When(renewed_q(association), then=Value(Progress.RENEWED)),
            When(clicked_at__isnull=False, then=Value(Progress.CLICKED)),
            When(opened_at__isnull=False, then=Value(Progress.OPENED)),
            default=Value(Progress.SENT),
            output_field=CharField(),
        ))
    )


def _counts(association: Association) -> dict[str, Any]:
    """Aggregates of the funnel over outbox rows (usable in ``aggregate`` and grouped ``annotate``; the
    conditions are spelled out: an aggregate's filter must not refer to another annotation)."""
    return {
        "targeted": Count("pk"),
        "sent": Count("pk", filter=Q(sent_at__isnull=False)),
        "opened": Count("pk", filter=Q(sent_at__isnull=False) & (Q(opened_at__isnull=False)
                                                                  | Q(clicked_at__isnull=False))),
        "clicked": Count("pk", filter=Q(sent_at__isnull=False, clicked_at__isnull=False)),
        "renewed": Count("pk", filter=renewed_q(association)),
        "failed": Count("pk", filter=Q(status=MailStatus.FAILED)),
        "waiting": Count("pk", filter=Q(status__in=WAITING)),
        "cancelled": Count("pk", filter=Q(status=MailStatus.CANCELLED)),
    }


def _count_subquery(rows: QuerySet) -> Coalesce:
    counted = rows.order_by().values("campaign").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- List ----------------------------------------------------------------------------------------


def campaign_list(association: Association) -> QuerySet[Campaign]:
    """Campaigns with their counts (one query per page, one correlated count per column)."""
    mails = OutgoingMail.objects.filter(association=association, kind=MailKind.CAMPAIGN, campaign=OuterRef("pk"))
    return Campaign.objects.filter(association=association).annotate(
        sent_count=_count_subquery(mails.filter(sent_at__isnull=False)),
        opened_count=_count_subquery(mails.filter(Q(sent_at__isnull=False)
                                                  & (Q(opened_at__isnull=False) | Q(clicked_at__isnull=False)))),
        clicked_count=_count_subquery(mails.filter(sent_at__isnull=False, clicked_at__isnull=False)),
        renewed_count=_count_subquery(mails.filter(renewed_q(association))),
        waiting_count=_count_subquery(mails.filter(status__in=WAITING)),
    )


# --- Campaign page -------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@dataclass
class FunnelStep:
    key: str
    label: str
    count: int | None          # None: not tracked for this campaign
    percent: int | None        # of the e-mails sent (of the recipients for the « sent » step)


@dataclass
class Funnel:
    targeted: int
    sent: int
    opened: int | None
    clicked: int | None
    renewed: int
    failed: int
    waiting: int
    cancelled: int
    label: str = ""            # the profession, in the breakdown

    @classmethod
    def build(cls, counts: dict[str, int], campaign: Campaign, label: str = "") -> Funnel:
        return cls(targeted=counts["targeted"], sent=counts["sent"],
                   opened=counts["opened"] if campaign.track_opens else None,
                   clicked=counts["clicked"] if campaign.track_clicks else None,
                   renewed=counts["renewed"], failed=counts["failed"], waiting=counts["waiting"],
                   cancelled=counts["cancelled"], label=label)

    @property
    def steps(self) -> list[FunnelStep]:
        return [
            FunnelStep("targeted", _("Destinataires"), self.targeted, None),
            FunnelStep("sent", _("Envoyés"), self.sent, _percent(self.sent, self.targeted)),
            FunnelStep("opened", _("Ouverts"), self.opened,
                       None if self.opened is None else _percent(self.opened, self.sent)),
            FunnelStep("clicked", _("Cliqués"), self.clicked,
                       None if self.clicked is None else _percent(self.clicked, self.sent)),
            FunnelStep("renewed", _("Renouvellements"), self.renewed, _percent(self.renewed, self.sent)),
        ]

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.cancelled

    @property
    def progress_percent(self) -> int:
        return _percent(self.targeted - self.waiting, self.targeted) or 0

    @property
    def sending(self) -> bool:
        return self.waiting > 0


def _campaign_rows(campaign: Campaign) -> QuerySet[OutgoingMail]:
    return OutgoingMail.objects.filter(association=campaign.association, campaign=campaign, kind=MailKind.CAMPAIGN)


def funnel(campaign: Campaign) -> Funnel:
    """The campaign's funnel in one query."""
    counts = _campaign_rows(campaign).aggregate(**_counts(campaign.association))
    return Funnel.build(counts, campaign)


def funnel_by_profession(campaign: Campaign) -> list[Funnel]:
    """The same funnel per profession (structures grouped apart), in one grouped query."""
    rows = (_campaign_rows(campaign)
            .values("member__profession__label", "member__kind")
            .annotate(**_counts(campaign.association))
            .order_by("member__profession__label", "member__kind"))
    result = []
    for row in rows:
        label = row["member__profession__label"] or (
            _("Structures") if row["member__kind"] == "structure" else _("Profession non renseignée"))
        result.append(Funnel.build(row, campaign, label=str(label)))
    result.sort(key=lambda f: (-f.targeted, f.label))
    return result


def describe_audience(association: Association, audience: dict[str, Any]) -> list[tuple[str, str]]:
    """The audience filters in words (label, value); at most one query per model-choice filter used."""
    from associations.membership.filters import STATUS_CHOICES, MemberFilter
    from associations.models import MemberKind

    labels = {name: str(f.label) for name, f in MemberFilter.base_filters.items()}
    result = []
    for name in MemberFilter.Meta.fields:
        value = str((audience or {}).get(name) or "")
        if not value:
            continue
        shown = value
        if name == "kind":
            shown = str(dict(MemberKind.choices).get(value, value))
        elif name == "status":
            shown = str(dict(STATUS_CHOICES).get(value, value))
        elif name == "profession" and value.isdigit():
            shown = Profession.objects.filter(pk=value).values_list("label", flat=True).first() or value
        elif name == "college" and value.isdigit():
            shown = (College.objects.filter(association=association, pk=value).values_list("name", flat=True)
                     .first() or value)
        result.append((labels.get(name, name), shown))
    return result


@dataclass
class CampaignStats:
    funnel: Funnel
    by_profession: list[Funnel] = field(default_factory=list)


def campaign_stats(campaign: Campaign) -> CampaignStats:
    return CampaignStats(funnel=funnel(campaign), by_profession=funnel_by_profession(campaign))
