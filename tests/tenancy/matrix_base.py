"""Shared pieces of the URL × role matrix. Each feature keeps its rows in its own module
(``matrix_<feature>.py``) as a ``CASES`` dict; ``test_url_matrix`` gathers them all.

A row says who may call the URL (``allowed``), how (``method``, ``data``, URL ``kwargs`` built from
the fixture objects, extra objects made by ``setup``) and, for a POST, what the database holds after a
successful call (``effect``: checks such as ``audited("invitation.revoke")`` or
``row_is(Invitation, "invitation", revoked_at=SET)``). Every refused call must leave the database
unchanged (``snapshot`` / ``assert_unchanged``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django_scopes import scope, scopes_disabled

from associations.models import AuditLog, Role
from associations.permissions import TREASURER

MEMBER = "member"


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()  # the association's logo in the fixture objects (also used by tests/associations)

# Staff callers. The treasurer is a viewer whose staff role carries ``is_treasurer``: the viewer's
# capabilities plus ``validate_payments`` and ``view_members``.
ALL = frozenset({Role.COORDINATOR, Role.ASSISTANT, Role.VIEWER, TREASURER})
EDITORS = frozenset({Role.COORDINATOR, Role.ASSISTANT})
COORD = frozenset({Role.COORDINATOR})
VALIDATORS = frozenset({Role.COORDINATOR, TREASURER})  # capability ``validate_payments``

# Callers of every tenant URL: anonymous, a user with no role anywhere ("nobody"), the coordinator
# of another association ("outsider"), a member of the association with a login, and each staff role.
CALLERS = ["anonymous", "nobody", "outsider", MEMBER, Role.VIEWER, TREASURER, Role.ASSISTANT, Role.COORDINATOR]

# An effect check receives the fixture objects plus ``association`` (the instance), ``caller`` (the
# caller's name in CALLERS, None on public pages), ``user`` (their account, None when anonymous) and
# ``audit_since`` (the last audit row's id before the request).
Effect = Callable[[dict], None]


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
    # What a successful call as an allowed caller leaves in the database (required on POST rows); one
    # check or a tuple of checks, each failing before the call and passing after it.
    effect: Effect | tuple[Effect, ...] = ()

    @property
    def checks(self) -> tuple[Effect, ...]:
        return self.effect if isinstance(self.effect, tuple) else (self.effect,)


# --- Effect checks -------------------------------------------------------------------------------


class _Set:
    def __repr__(self) -> str:
        return "SET"


SET = _Set()  # expected value "anything but None" (a date was written)


def CALLER(o: dict):  # noqa: N802 - reads as a constant in the rows: ``validated_by=CALLER``
    """Expected value: the calling user."""
    return o["user"]


@dataclass(frozen=True)
class other_than:  # noqa: N801 - reads as a value in the rows: ``nonce=other_than(...)``
    """Expected value: anything but this one (a callable receives the objects)."""

    value: Any


def _expected(value: Any, o: dict) -> Any:
    if isinstance(value, other_than):
        return other_than(_expected(value.value, o))
    return value(o) if callable(value) else value


def _matches(got: Any, want: Any) -> bool:
    if want is SET:
        return got is not None
    if isinstance(want, other_than):
        return got != want.value
    return got == want


def audited(action: str, target: str | None = None) -> Effect:
    """The request wrote an audit row with ``action`` in the association, by the caller (about the
    object ``o[target]`` when given). Rows older than the request (``o["audit_since"]``) do not count."""

    def check(o: dict) -> None:
        with scope(association=o["association"]):
            rows = AuditLog.objects.filter(association=o["association"], action=action, actor=o["user"],
                                           pk__gt=o["audit_since"])
            if target is not None:
                rows = rows.filter(target_id=str(o[target]))
            assert rows.exists(), f"no new audit row {action!r} by {o['caller']}"

    check.__qualname__ = f"audited({action!r})"
    return check


def latest_audit_id() -> int:
    with scopes_disabled():
        return AuditLog._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0


def row_is(model, key: str, **fields: Any) -> Effect:
    """The object ``o[key]`` of ``model`` now has these field values (``SET``: not None; a callable
    receives the objects and returns the value)."""

    def check(o: dict) -> None:
        with scope(association=o["association"]):
            obj = model.objects.get(pk=o[key])
        for name, value in fields.items():
            want = _expected(value, o)
            got = getattr(obj, name)
            assert _matches(got, want), f"{model.__name__} {key}.{name} is {got!r}, expected {want!r}"

    check.__qualname__ = f"row_is({model.__name__}, {key!r}, {fields!r})"
    return check


def exists(model, **filters: Any) -> Effect:
    """A row of ``model`` matching ``filters`` (callables receive the objects) is in the association."""

    def check(o: dict) -> None:
        lookups = {name: _expected(value, o) for name, value in filters.items()}
        with scope(association=o["association"]):
            found = model.objects.filter(association=o["association"], **lookups).exists()
        assert found, f"no {model.__name__} with {lookups}"

    check.__qualname__ = f"exists({model.__name__}, {filters!r})"
    return check


def deleted(model, key: str) -> Effect:
    """The object ``o[key]`` of ``model`` is gone."""

    def check(o: dict) -> None:
        with scope(association=o["association"]):
            assert not model.objects.filter(pk=o[key]).exists(), f"{model.__name__} {key} still exists"

    check.__qualname__ = f"deleted({model.__name__}, {key!r})"
    return check


# --- "Nothing changed" -----------------------------------------------------------------------------

# Logging in writes the session row (and ``last_login``, before the snapshot is taken): not state the
# request under test may change, and never tenant data.
SNAPSHOT_SKIPPED = {"sessions.Session"}
# Reference tables nothing in the product writes to: leaving them out keeps the snapshot cheap.
SNAPSHOT_STATIC = {"auth.Permission", "contenttypes.ContentType", "associations.Profession"}
FILES = "files under MEDIA_ROOT"


def snapshot() -> dict[str, Any]:
    """Every row of every model (all associations: the whole database) and every stored file."""
    state: dict[str, Any] = {}
    with scopes_disabled():
        for model in apps.get_models():
            label = model._meta.label
            if label in SNAPSHOT_SKIPPED or label in SNAPSHOT_STATIC or model._meta.proxy:
                continue
            state[label] = list(model._base_manager.order_by("pk").values_list())
    files = []
    for folder, _dirs, names in os.walk(settings.MEDIA_ROOT):
        files.extend(os.path.join(folder, name) for name in names)
    state[FILES] = sorted(files)
    return state


def changes_since(before: dict[str, Any]) -> dict[str, Any]:
    """What differs from ``before``: per model, the rows added, removed or changed (a few of each)."""
    after = snapshot()
    diff: dict[str, Any] = {}
    for label, rows in after.items():
        old = before.get(label, [])
        if rows == old:
            continue
        if label == FILES:
            diff[label] = {"added": sorted(set(rows) - set(old)), "removed": sorted(set(old) - set(rows))}
            continue
        old_by_pk = {row[0]: row for row in old}
        new_by_pk = {row[0]: row for row in rows}
        diff[label] = {
            "added": [new_by_pk[pk] for pk in new_by_pk.keys() - old_by_pk.keys()][:3],
            "removed": [old_by_pk[pk] for pk in old_by_pk.keys() - new_by_pk.keys()][:3],
            "changed": [(old_by_pk[pk], new_by_pk[pk]) for pk in new_by_pk.keys() & old_by_pk.keys()
                        if new_by_pk[pk] != old_by_pk[pk]][:3],
        }
    return diff


def assert_unchanged(before: dict[str, Any]) -> None:
    """The database (every association) and the stored files are as in ``before``."""
    diff = changes_since(before)
    assert not diff, f"the request changed the database: {diff}"
