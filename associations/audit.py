"""The one helper every write of the product uses to leave a trace in the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from associations.models import Association, AuditLog, User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind the docker-compose proxy the first X-Forwarded-For hop is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return ip or None


def record(
    association: Association,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    *,
    changes: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    target_label: str | None = None,
) -> AuditLog:
    """Write one audit row. Call it inside the service's transaction so it commits with the change."""
    return AuditLog.objects.create(
        association=association,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=(actor.display_name if actor is not None and actor.is_authenticated else "système"),
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label if target_label is not None else str(target) if target is not None else "")[:255],
        changes=changes or {},
        ip=client_ip(request),
    )


def diff(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields that changed, as JSON-friendly strings."""
    changes = {}
    for name in fields:
        new = getattr(instance, name)
        old = before.get(name)
        if old != new:
            changes[name] = [None if old is None else str(old), None if new is None else str(new)]
    return changes
