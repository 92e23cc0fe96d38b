"""Read models for dashboards: a fixed number of queries whatever the number of members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.http import HttpRequest

from associations.membership.services import current_period, previous_period
from associations.models import (
    ApplicationStatus,
    Association,
    Member,
    Membership,
    MembershipStatus,
    MemberStatus,
)

SETTLED = [MembershipStatus.PAID, MembershipStatus.EXEMPT]


@dataclass
class MembershipDashboard:
    counts: dict[str, int]            # member status → count (every status present, zeros included)
    status_labels: dict[str, str]
    total: int
    to_validate: int                  # memberships waiting for payment validation + pending applications
    previous_label: str
    current_label: str
    previous_settled: int             # members with a settled membership in the previous period
    renewed: int                      # ... of whom have renewed for the current period (settled or pending)
    by_profession: list[tuple[str, int]]

    @property
    def renewal_rate(self) -> float | None:
        if not self.previous_settled:
            return None
        return round(100 * self.renewed / self.previous_settled, 1)


def membership_dashboard(association: Association, today: date | None = None) -> MembershipDashboard:
    members = Member.objects.filter(association=association, anonymized_at=None)
    # Query 1: counts per status.
    raw = dict(members.values_list("status").annotate(n=Count("id")).order_by())
    counts = {status: raw.get(status, 0) for status in MemberStatus.values}
    # Query 2: work waiting for the coordinator.
    to_validate = Membership.objects.filter(association=association, status=MembershipStatus.PENDING).count()
    pending_applications = members.filter(application_status=ApplicationStatus.PENDING).exclude(
        memberships__status=MembershipStatus.PENDING).count()
    # Query 3: renewal of the previous period's members into the current one.
    current, previous = current_period(association, today), previous_period(association, today)
    renewal = members.filter(
        memberships__status__in=SETTLED, memberships__start_date__gte=previous.start,
        memberships__start_date__lte=previous.end,
    ).aggregate(
        previous_settled=Count("id", distinct=True),
    )
    renewed = members.filter(
        memberships__status__in=SETTLED, memberships__start_date__gte=previous.start,
        memberships__start_date__lte=previous.end,
    ).filter(
        Q(id__in=Membership.objects.filter(
            association=association, start_date__gt=previous.end,
            status__in=[*SETTLED, MembershipStatus.PENDING],
        ).values("member_id"))
    ).distinct().count()
    # Query 4: members up to date by profession (structures grouped).
    rows = (members.filter(status=MemberStatus.UP_TO_DATE)
            .values_list("profession__label", "kind").annotate(n=Count("id")).order_by("-n"))
    by_profession: dict[str, int] = {}
    for label, kind, n in rows:
        key = label or ("Structures" if kind == "structure" else "Non renseignée")
        by_profession[key] = by_profession.get(key, 0) + n
    return MembershipDashboard(
        counts=counts, status_labels={k: str(v) for k, v in MemberStatus.choices}, total=sum(counts.values()),
        to_validate=to_validate + pending_applications, previous_label=previous.label, current_label=current.label,
        previous_settled=renewal["previous_settled"], renewed=renewed,
        by_profession=sorted(by_profession.items(), key=lambda item: -item[1]),
    )


def members_block(request: HttpRequest) -> dict:
    """Dashboard block "Adhérents" (4 queries)."""
    return {"members": membership_dashboard(request.association)}
