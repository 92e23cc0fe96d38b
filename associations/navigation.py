"""The navigation: sections (top-level entries of the navbar) made of items (the secondary navigation).

Like capabilities and dashboard blocks, sections are a **registry** that each app fills in its
``AppConfig.ready()``: ``associations`` registers its own sections here (``register_core_sections``);
``missions`` (Gouvernance, Contrat ACI), ``finance`` (Finances) and ``indicators`` (Rapport) register
theirs with ``register_section`` without ``associations`` importing them. Orders leave room for them::

    10 Tableau de bord · 20 Adhérents · 25 Mon adhésion · 30 Gouvernance · 40 Contrat ACI
    50 Finances · 60 Rapport · 90 Équipe & paramètres

At request time ``build_navigation(request)`` keeps the items whose capability the caller holds (from
``request.capabilities``), drops the sections left empty and marks the active section and item from
``request.resolver_match.url_name``. It reverses URLs and reads the request only: no query.

Rules the layout (``templates/base.html``) follows:

- a section appears only when the caller may see at least one of its items; its top-level link goes to
  its first visible item;
- a section reduced to one visible item *is* that item: no secondary navigation, and (unless the
  section sets ``single_item_label=False``) the link bears the item's label (an assistant sees
  « Équipe », not « Équipe & paramètres » where no setting is theirs);
- an item is active on its own URL name, on the extra names it lists, and on names starting with one
  of its prefixes (an exact name beats a prefix, a longer prefix beats a shorter one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core import checks
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from associations.registries import Registry, capabilities

EXACT = 10_000  # score of an exact URL-name match; a prefix scores its length


@dataclass(frozen=True)
class NavItem:
    """One entry of a section: a page of the association (URL with ``association_slug`` only).

    ``capability`` is a capability name, or a tuple of names of which the caller needs *any one*.
    ``url_names`` and ``prefixes`` are the other URL names that make the item active (the detail,
    edit and action pages behind a list).
    """

    label: Any  # a lazy translation string
    url_name: str
    capability: str | tuple[str, ...]
    url_names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.capability, str):
            object.__setattr__(self, "capability", tuple(self.capability))
        object.__setattr__(self, "url_names", frozenset(self.url_names))
        object.__setattr__(self, "prefixes", tuple(self.prefixes))

    @property
    def capabilities(self) -> tuple[str, ...]:
        return (self.capability,) if isinstance(self.capability, str) else self.capability

    def visible_to(self, granted: Iterable[str]) -> bool:
        return any(name in granted for name in self.capabilities)

    def match(self, url_name: str | None) -> int:
        """How well ``url_name`` designates this item: 0 not at all, ``EXACT`` for a listed name,
        else the length of the longest matching prefix."""
        if not url_name:
            return 0
        if url_name == self.url_name or url_name in self.url_names:
            return EXACT
        return max((len(p) for p in self.prefixes if url_name.startswith(p)), default=0)


@dataclass(frozen=True)
class NavSection:
    key: str
    label: Any  # a lazy translation string
    icon: str  # a bootstrap-icons name, without the ``bi-`` prefix
    order: int = 100
    items: tuple[NavItem, ...] = ()
    single_item_label: bool = True  # one visible item only: show the item's label (see module doc)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))


sections: Registry[NavSection] = Registry("navigation sections")


def register_section(section: NavSection) -> NavSection:
    return sections.register(section.key, section)


# --- What the caller sees ----------------------------------------------------------------------


@dataclass
class VisibleItem:
    item: NavItem
    url: str
    active: bool = False

    @property
    def label(self) -> Any:
        return self.item.label


@dataclass
class VisibleSection:
    section: NavSection
    items: list[VisibleItem]
    active: bool = False

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def icon(self) -> str:
        return self.section.icon

    @property
    def url(self) -> str:
        return self.items[0].url

    @property
    def has_subnav(self) -> bool:
        return len(self.items) > 1

    @property
    def label(self) -> Any:
        if len(self.items) == 1 and self.section.single_item_label:
            return self.items[0].label
        return self.section.label

    @property
    def aria_current(self) -> str:
        """For the top-level link of the active section: ``page`` when the section is its only item
        (no secondary navigation says it), else ``true`` (the current section, not the current page)."""
        return "true" if self.has_subnav else "page"


@dataclass
class Navigation:
    sections: list[VisibleSection] = field(default_factory=list)
    active_section: VisibleSection | None = None
    active_item: VisibleItem | None = None


def build_navigation(request: HttpRequest) -> Navigation:
    """The sections and items the caller may see in ``request.association``, the active ones marked."""
    association = getattr(request, "association", None)
    granted = getattr(request, "capabilities", frozenset())
    if association is None or not granted:
        return Navigation()
    kwargs = {"association_slug": association.slug}
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match is not None else None

    navigation = Navigation()
    best = 0
    for section in sorted(sections.values(), key=lambda s: (s.order, s.key)):
        items = [VisibleItem(item, reverse(item.url_name, kwargs=kwargs))
                 for item in section.items if item.visible_to(granted)]
        if not items:
            continue
        visible = VisibleSection(section, items)
        navigation.sections.append(visible)
        for entry in items:
            score = entry.item.match(url_name)
            if score > best:
                best, navigation.active_section, navigation.active_item = score, visible, entry
    if navigation.active_item is not None:
        navigation.active_item.active = True
        navigation.active_section.active = True
    return navigation


# --- Consistency check (runs after every app's ready(), so cross-app capabilities are known) ----


@checks.register("navigation")
def check_navigation(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for section in sections.values():
        if not section.items:
            errors.append(checks.Error(f"Navigation section {section.key!r} has no item.", id="navigation.E001"))
        for item in section.items:
            for name in item.capabilities:
                if name not in capabilities:
                    errors.append(checks.Error(
                        f"Navigation item {item.url_name!r} of {section.key!r} needs unknown capability {name!r}.",
                        id="navigation.E002",
                    ))
            try:
                reverse(item.url_name, kwargs={"association_slug": "x"})
            except NoReverseMatch:
                errors.append(checks.Error(
                    f"Navigation item {item.url_name!r} of {section.key!r} is not a URL of an association.",
                    id="navigation.E003",
                ))
    return errors


# --- The sections of associations --------------------------------------------------------------


def register_core_sections() -> None:
    """Called from ``AssociationsConfig.ready()`` once the capabilities are registered."""
    register_section(NavSection(
        key="dashboard", label=_("Tableau de bord"), icon="speedometer2", order=10,
        items=(NavItem(_("Tableau de bord"), "dashboard", "view_dashboard"),),
    ))
    register_section(NavSection(
        key="members", label=_("Adhérents"), icon="person-vcard", order=20,
        items=(
            NavItem(_("Annuaire"), "member_list", "view_members", url_names={
                "member_create", "member_bulk", "member_detail", "member_edit", "member_open_membership",
                "member_record_payment", "member_departure", "member_resubscribe", "membership_set_status",
                "membership_attestation", "payment_validate",
                # RGPD screens about former members (reached from the queue and the settings).
                "lapsed_members", "member_erase", "member_export",
            }),
            NavItem(_("À valider"), "membership_queue", ("validate_payments", "manage_members"),
                    url_names={"membership_validate", "application_decide"}),
            NavItem(_("Campagnes"), "campaign_list", "view_campaigns", prefixes=("campaign_",)),
            NavItem(_("Relances"), "reminder_settings", "view_campaigns", url_names={"reminder_toggle"}),
            NavItem(_("Import"), "import_list", "import_members", prefixes=("import_",)),
        ),
    ))
    register_section(NavSection(
        key="member_space", label=_("Mon adhésion"), icon="person-badge", order=25,
        items=(NavItem(_("Mon adhésion"), "member_space", "member_space", url_names={"member_attestation"},
                       prefixes=("space_",)),),
    ))
    register_section(NavSection(
        key="settings", label=_("Équipe & paramètres"), icon="people", order=90,
        items=(
            NavItem(_("Équipe"), "team", "view_team", url_names={
                "invitation_create", "invitation_resend", "invitation_revoke", "role_remove", "role_change",
            }),
            NavItem(_("Journal"), "audit_log", "view_audit"),
            NavItem(_("Paramètres"), "association_settings", "manage_association", url_names={"association_logo"}),
            NavItem(_("Paramètres des adhésions"), "membership_settings", "manage_association", url_names={
                "tariff_save", "college_add", "college_edit", "college_delete", "document_upload",
                "association_document",
            }),
        ),
    ))
