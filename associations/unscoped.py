"""The few reads that must cross tenants, gathered in one place (DESIGN.md §Tenancy rule 8).

Every function here returns rows of *one* association decided by something else than the URL
(a signed token), and callers enter that association's scope before doing anything with them.
"""

from __future__ import annotations

from associations.models import Invitation


def invitation_by_id(pk: int) -> Invitation | None:
    """An invitation named by a signed link, before we know which association it belongs to."""
    return Invitation._base_manager.select_related("association", "invited_by").filter(pk=pk).first()
