"""Who may do what inside an association: one table of capabilities, one decorator.

Views never test roles with scattered ``if`` statements: they declare the capability they need, and
the tenant middleware computes ``request.capabilities`` once per request from the caller's staff role,
their elected roles and whether they are a member with a login. Capabilities live in
``associations.registries.capabilities``; each app registers its own in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from associations.models import Role
from associations.registries import capabilities

MEMBER = "member"  # a health professional or structure with a login: sees only their own space
TREASURER = "treasurer"  # elected role (today a flag on the staff role; a bureau mandate with governance)
ALL_STAFF = frozenset({Role.COORDINATOR, Role.ASSISTANT, Role.VIEWER})
EDITORS = frozenset({Role.COORDINATOR, Role.ASSISTANT})
COORDINATOR_ONLY = frozenset({Role.COORDINATOR})


def capabilities_for(role: str | None, *, elected: Iterable[str] = ()) -> frozenset[str]:
    """Every registered capability granted to a caller holding ``role`` and the ``elected`` roles."""
    held = {role, *elected} - {None}
    return frozenset(name for name, cap in capabilities.items() if held & cap.roles)


def has_capability(request: HttpRequest, capability: str) -> bool:
    if capability not in capabilities:
        raise KeyError(f"Unknown capability {capability!r}")
    return capability in getattr(request, "capabilities", frozenset())


def require(capability: str) -> Callable:
    """View decorator: 403 unless the caller's capabilities in ``request.association`` include it.

    The tenant middleware has already answered 404 to anyone without a role in the association.
    """
    if capability not in capabilities:
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
