"""Read models of the core dashboard blocks: each runs a fixed number of queries."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest

from associations.models import AuditLog, Invitation, Role, UserRole


def overview_block(request: HttpRequest) -> dict:
    """Population and size, team, pending invitations, identifiers (2 queries)."""
    association = request.association
    roles = UserRole.objects.filter(association=association).aggregate(
        total=Count("id"),
        coordinators=Count("id", filter=Q(role=Role.COORDINATOR)),
    )
    pending_invitations = Invitation.objects.filter(Invitation.pending_q(), association=association).count()
    return {"roles": roles, "pending_invitations": pending_invitations}


def recent_actions_block(request: HttpRequest) -> dict:
    """The last 8 rows of the audit log (1 query)."""
    recent = list(
        AuditLog.objects.filter(association=request.association).select_related(None).order_by("-created_at", "-id")[:8]
    )
    return {"recent": recent}


def no_data(request: HttpRequest) -> dict:
    return {}
