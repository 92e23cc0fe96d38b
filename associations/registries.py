"""Extension points that every app fills in its ``AppConfig.ready()``.

``associations`` owns the registries, never the entries of other apps: ``missions``, ``finance`` and
``indicators`` register their capabilities, audit action types, dashboard blocks and navigation
sections here without ``associations`` importing them (the one-way rule, DESIGN.md). The idea comes
from pretix's ``logentrytype_registry``: a registry is a keyed collection with a duplicate check,
filled once at start-up and read at request time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries by key, in registration order; registering a key twice is a configuration error."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[str, T] = {}

    def register(self, key: str, entry: T) -> T:
        if key in self._entries:
            raise ImproperlyConfigured(f"{self.name}: {key!r} is already registered.")
        self._entries[key] = entry
        return entry

    def unregister(self, key: str) -> None:
        """For tests that register a temporary entry."""
        self._entries.pop(key, None)

    def get(self, key: str, default: T | None = None) -> T | None:
        return self._entries.get(key, default)

    def __getitem__(self, key: str) -> T:
        return self._entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> Iterable[tuple[str, T]]:
        return self._entries.items()

    def values(self) -> Iterable[T]:
        return self._entries.values()


# --- Capabilities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """Who may do one thing inside an association.

    ``roles`` holds staff roles (coordinator, assistant, viewer), ``member`` (a professional with a
    login) and elected roles held through governance (``treasurer``, ``bureau``): a caller gets the
    capability when any of their roles is listed.
    """

    name: str
    roles: frozenset[str]
    label: str = ""


capabilities: Registry[Capability] = Registry("capabilities")


def register_capability(name: str, roles: Iterable[str], label: str = "") -> Capability:
    return capabilities.register(name, Capability(name, frozenset(roles), label))


# --- Audit action types ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: Any  # a lazy translation string


audit_actions: Registry[AuditAction] = Registry("audit actions")


def register_audit_actions(labels: dict[str, Any]) -> None:
    """Register action codes (``"member.create"``) with their French labels (``gettext_lazy``)."""
    for code, label in labels.items():
        audit_actions.register(code, AuditAction(code, label))


def audit_action_label(code: str) -> str:
    entry = audit_actions.get(code)
    return str(entry.label) if entry is not None else code


# --- Dashboard blocks --------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardBlock:
    """One block of the coordinator's dashboard.

    ``selector(request)`` returns the block's template context with a number of queries that does not
    depend on the data (the dashboard test counts them); it runs only for callers holding
    ``capability``. ``order`` sorts blocks; ``width`` is a Bootstrap column class for large screens.
    """

    key: str
    title: Any
    template: str
    selector: Callable[[HttpRequest], dict[str, Any]]
    capability: str = "view_dashboard"
    order: int = 100
    width: str = "col-lg-12"


dashboard_blocks: Registry[DashboardBlock] = Registry("dashboard blocks")


def register_dashboard_block(block: DashboardBlock) -> DashboardBlock:
    return dashboard_blocks.register(block.key, block)


@dataclass
class RenderedBlock:
    block: DashboardBlock
    data: dict[str, Any] = field(default_factory=dict)


def visible_dashboard_blocks(request: HttpRequest) -> list[RenderedBlock]:
    """The blocks the caller may see, in order, each with the data its selector returned."""
    granted = getattr(request, "capabilities", frozenset())
    blocks = sorted(
        (b for b in dashboard_blocks.values() if b.capability in granted), key=lambda b: (b.order, b.key)
    )
    return [RenderedBlock(block, block.selector(request)) for block in blocks]


# --- Demo data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLoader:
    """Demo data of one app, loaded by ``manage.py seed_demo`` after the associations and members.

    ``load(association, coordinator)`` runs inside the association's scope, must be idempotent (a
    second run changes nothing) and returns a one-line French summary (or "").
    """

    key: str
    load: Callable[..., str]
    order: int = 100


demo_loaders: Registry[DemoLoader] = Registry("demo loaders")


def register_demo_loader(loader: DemoLoader) -> DemoLoader:
    return demo_loaders.register(loader.key, loader)
