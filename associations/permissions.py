"""Who may do what inside an association: one table of capabilities, one decorator.

Views never test roles with scattered ``if`` statements: they declare the capability they need, and
the tenant middleware computes ``request.capabilities`` once per request from the caller's staff role,
their treasurer flag and whether they are a member with a login.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from associations.models import Role

MEMBER = "member"  # a health professional or structure with a login: sees only their own space
ALL_STAFF = frozenset({Role.COORDINATOR, Role.ASSISTANT, Role.VIEWER})
EDITORS = frozenset({Role.COORDINATOR, Role.ASSISTANT})

CAPABILITIES: dict[str, frozenset[str]] = {
    "view_dashboard": ALL_STAFF,
    "view_team": EDITORS,
    "manage_team": frozenset({Role.COORDINATOR}),
    "view_audit": frozenset({Role.COORDINATOR}),
    "view_files": ALL_STAFF,
    "manage_association": frozenset({Role.COORDINATOR}),
    "view_members": ALL_STAFF,
    "manage_members": EDITORS,
    "import_members": EDITORS,
    "validate_payments": frozenset({Role.COORDINATOR}),
    "erase_members": frozenset({Role.COORDINATOR}),
    "member_space": frozenset({MEMBER}),
    "view_campaigns": ALL_STAFF,
    "manage_campaigns": EDITORS,
}

# Elected roles held through governance (today a flag on the staff role; mandates come with governance).
TREASURER_CAPABILITIES = frozenset({"validate_payments", "view_members"})


def capabilities_for(role: str | None, *, treasurer: bool = False) -> frozenset[str]:
    granted = {name for name, roles in CAPABILITIES.items() if role in roles}
    if treasurer and role in ALL_STAFF:
        granted |= TREASURER_CAPABILITIES
    return frozenset(granted)


def has_capability(request: HttpRequest, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"Unknown capability {capability!r}")
    return capability in getattr(request, "capabilities", frozenset())


def require(capability: str) -> Callable:
    """View decorator: 403 unless the caller's capabilities in ``request.association`` include it.

    The tenant middleware has already answered 404 to anyone without a role in the association.
    """
    if capability not in CAPABILITIES:
        raise KeyError(f"Unknown capability {capability!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not has_capability(request, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability  # type: ignore[attr-defined]
        return wrapper

    return decorator
