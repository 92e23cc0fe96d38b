"""Shared pieces of the URL × role matrix. Each feature keeps its rows in its own module
(``matrix_<feature>.py``) as a ``CASES`` dict; ``test_url_matrix`` gathers them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from associations.models import Role

ALL = frozenset({Role.COORDINATOR, Role.ASSISTANT, Role.VIEWER})
EDITORS = frozenset({Role.COORDINATOR, Role.ASSISTANT})
COORD = frozenset({Role.COORDINATOR})
MEMBER = "member"

# Callers of every tenant URL: anonymous, a user with no role anywhere ("nobody"), the coordinator
# of another association ("outsider"), a member of the association with a login, and each staff role.
CALLERS = ["anonymous", "nobody", "outsider", MEMBER, Role.VIEWER, Role.ASSISTANT, Role.COORDINATOR]


@dataclass
class Case:
    allowed: frozenset[str]
    method: str = "get"
    ok: tuple[int, ...] = (200,)
    data: dict | Callable[[dict], dict] = field(default_factory=dict)
    # Builds the URL kwargs besides the slug from the fixture objects: ``lambda o: {"pk": o["member"]}``.
    kwargs: Callable[[dict], dict] | None = None
    # Extra objects this row needs, created before the request: ``lambda association, users: {...}``.
    setup: Callable | None = None
