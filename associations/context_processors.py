"""Template context for the layout: current association, role, capabilities, navigation, other associations."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from associations.models import Association, Role
from associations.navigation import build_navigation
from associations.permissions import MEMBER


def tenant(request: HttpRequest) -> dict:
    association = getattr(request, "association", None)
    role = getattr(request, "role", None)
    user = getattr(request, "user", None)
    context: dict = {"current_association": association, "current_role": role}
    if association is not None:
        context["can"] = getattr(request, "capabilities", frozenset())
        context["current_role_label"] = (
            _("Adhérent·e") if role == MEMBER else Role(role).label if role else ""
        )
        # The sections and items the caller may see, the active ones marked (associations.navigation):
        # no query; lazy, so fragments rendered for htmx do not compute it.
        context["nav"] = SimpleLazyObject(lambda: build_navigation(request))
    if user is not None and user.is_authenticated:
        # Lazy: evaluated only by templates that show the association switcher (one query).
        context["my_associations"] = Association.objects.filter(userrole__user=user).distinct().only(
            "name", "slug"
        )  # the switcher lists staff associations; members reach theirs from the picker
    return context
