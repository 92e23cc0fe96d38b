"""Who may do what inside an association: one table of capabilities, one decorator and one mixin.

Views never test roles with scattered ``if`` statements: they declare the capability they need.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from associations.models import Role

ALL_STAFF = frozenset({Role.COORDINATOR, Role.ASSISTANT, Role.VIEWER})

CAPABILITIES: dict[str, frozenset[str]] = {
    "view_dashboard": ALL_STAFF,
    "view_team": frozenset({Role.COORDINATOR, Role.ASSISTANT}),
    "manage_team": frozenset({Role.COORDINATOR}),
    "view_audit": frozenset({Role.COORDINATOR}),
    "view_files": ALL_STAFF,
    "manage_association": frozenset({Role.COORDINATOR}),
}


def has_capability(role: str | None, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"Unknown capability {capability!r}")
    return role in CAPABILITIES[capability]


def capabilities_for(role: str | None) -> frozenset[str]:
    return frozenset(name for name, roles in CAPABILITIES.items() if role in roles)


def require(capability: str) -> Callable:
    """View decorator: 403 unless the caller's role in ``request.association`` grants ``capability``.

    The tenant middleware has already answered 404 to anyone without a role in the association.
    """
    if capability not in CAPABILITIES:
        raise KeyError(f"Unknown capability {capability!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not has_capability(getattr(request, "role", None), capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability  # type: ignore[attr-defined]
        return wrapper

    return decorator
