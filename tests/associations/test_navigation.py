"""The navigation registry and its rendering: which sections and items each role sees, the active item,
no query added, and sections registered by other apps (associations.navigation)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations import navigation
from associations.models import Role, UserRole
from associations.navigation import Navigation, NavItem, NavSection, build_navigation, register_section, sections
from associations.registries import capabilities, register_capability
from tests.factories import UserFactory, grant, make_member

pytestmark = pytest.mark.django_db

CORE = ("dashboard", "members", "member_space", "settings")
FUTURE_LABELS = ("Gouvernance", "Contrat ACI", "Finances", "Rapport")
MEMBERS_ITEMS = ["member_list", "membership_queue", "campaign_list", "reminder_settings", "import_list"]
SETTINGS_ITEMS = ["team", "audit_log", "association_settings", "membership_settings"]

# Per role: section key -> the URL names of its visible items, in order.
EXPECTED = {
    "coordinator": {"dashboard": ["dashboard"], "members": MEMBERS_ITEMS, "settings": SETTINGS_ITEMS},
    "assistant": {"dashboard": ["dashboard"], "members": MEMBERS_ITEMS, "settings": ["team"]},
    "viewer": {"dashboard": ["dashboard"], "members": ["member_list", "campaign_list", "reminder_settings"]},
    "treasurer": {
        "dashboard": ["dashboard"],
        "members": ["member_list", "membership_queue", "campaign_list", "reminder_settings"],
    },
    "member": {"member_space": ["member_space"]},
}
# The top-level label: the section's, or its only visible item's.
TOP_LABELS = {
    "coordinator": ["Tableau de bord", "Adhérents", "Équipe & paramètres"],
    "assistant": ["Tableau de bord", "Adhérents", "Équipe"],
    "viewer": ["Tableau de bord", "Adhérents"],
    "treasurer": ["Tableau de bord", "Adhérents"],
    "member": ["Mon adhésion"],
}
CORE_LABELS = {label for labels in TOP_LABELS.values() for label in labels}
LANDING = {"member": "member_space"}  # staff land on the dashboard


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"association_slug": "alpha", **kwargs})


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def people(users, association):
    """The staff roles of tests/conftest.py, a treasurer (a viewer with ``is_treasurer``) and a member
    with a login (a member record linked to the ``member`` user)."""
    treasurer = UserFactory(email="tresorier@alpha.example.org")
    grant(treasurer, association, Role.VIEWER)
    with scope(association=association):
        UserRole.objects.filter(user=treasurer).update(is_treasurer=True)
    make_member(association, first_name="Paul", last_name="Martin", email=users["member"].email, user=users["member"])
    return {
        "coordinator": users[Role.COORDINATOR], "assistant": users[Role.ASSISTANT], "viewer": users[Role.VIEWER],
        "treasurer": treasurer, "member": users["member"],
    }


@pytest.fixture
def as_role(client, people):
    def login(role: str):
        client.force_login(people[role])
        return client

    return login


@pytest.fixture
def temporary_sections():
    """Sections (and capabilities) registered by a test, unregistered afterwards."""
    added: list[tuple[object, str]] = []
    yield added
    for registry, key in added:
        registry.unregister(key)


class NavLinks(HTMLParser):
    """The links of a page's navigation, with their text, ``href`` and ``aria-current``: ``top``, one per
    section (``a.nav-section-link`` in ``ul.navbar-sections``); ``tree``, the items listed under their
    section in the collapsed menu; ``sub``, the secondary navigation (``nav.subnav``)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.top: list[dict] = []
        self.tree: list[dict] = []
        self.sub: list[dict] = []
        self.subnav_label: str | None = None
        self._regions: list[str | None] = []
        self._link: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        region = self._regions[-1] if self._regions else None
        if "navbar-sections" in classes:
            region = "top"
        elif tag == "nav" and "subnav" in classes:
            region, self.subnav_label = "sub", attrs.get("aria-label")
        if tag == "a" and region:
            if region == "top" and "nav-section-link" not in classes:
                region = "tree"
            self._link = {"region": region, "href": attrs.get("href"), "current": attrs.get("aria-current"),
                          "active": "active" in classes, "text": ""}
        if tag not in self.VOID:
            self._regions.append(region)

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            link, self._link = self._link, None
            link["text"] = " ".join(link["text"].split())
            getattr(self, link.pop("region")).append(link)
        if tag not in self.VOID and self._regions:
            self._regions.pop()

    def handle_data(self, data):
        if self._link is not None:
            self._link["text"] += data


def nav_of(response) -> NavLinks:
    assert response.status_code == 200, response.status_code
    return NavLinks(response.content.decode())


def core(nav: Navigation) -> dict[str, list[str]]:
    return {s.key: [i.item.url_name for i in s.items] for s in nav.sections if s.key in CORE}


# --- Registry ------------------------------------------------------------------------------------


def test_core_sections_are_registered_in_order_and_pass_the_check():
    assert all(key in sections for key in CORE)
    orders = [sections[key].order for key in CORE]
    assert orders == sorted(orders)
    assert navigation.check_navigation() == []


def test_registering_a_section_twice_is_refused():
    with pytest.raises(ImproperlyConfigured, match="members"):
        register_section(NavSection("members", "Autre", "people", items=(NavItem("x", "member_list", "view_members"),)))


def test_the_check_reports_unknown_capabilities_and_urls(temporary_sections):
    register_section(NavSection("probe_broken", "Cassée", "bug", items=(
        NavItem("Inconnue", "dashboard", "probe_no_such_capability"),
        NavItem("Nulle part", "probe_no_such_url", "view_dashboard"),
    )))
    temporary_sections.append((sections, "probe_broken"))
    ids = sorted(error.id for error in navigation.check_navigation())
    assert ids == ["navigation.E002", "navigation.E003"]


def test_an_item_is_active_on_its_names_and_longest_prefix():
    item = NavItem("Campagnes", "campaign_list", "view_campaigns", url_names={"outbox"}, prefixes=("campaign_", "c"))
    assert item.match("campaign_list") == item.match("outbox") == navigation.EXACT
    assert item.match("campaign_detail") == len("campaign_")
    assert item.match("team") == item.match(None) == 0
    assert NavItem("À valider", "membership_queue", ("validate_payments", "manage_members")).visible_to(
        {"validate_payments"}
    )


# --- What each role sees -------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_sections_and_items(as_role, role):
    response = as_role(role).get(url(LANDING.get(role, "dashboard")))
    assert response.status_code == 200
    assert core(response.context["nav"]) == EXPECTED[role]

    # Other apps' sections may be registered too: look at the core ones.
    top = [link for link in nav_of(response).top if link["text"] in CORE_LABELS]
    assert [link["text"] for link in top] == TOP_LABELS[role]
    # A section links to its first visible item.
    assert [link["href"] for link in top] == [url(items[0]) for items in EXPECTED[role].values()]
    # Where the toggler opens the menu, each section of several items lists them all.
    core_urls = {url(name) for names in EXPECTED["coordinator"].values() for name in names} | {url("member_space")}
    tree = [link["href"] for link in nav_of(response).tree if link["href"] in core_urls]
    assert tree == [url(name) for items in EXPECTED[role].values() if len(items) > 1 for name in items]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_what_a_role_may_not_reach_is_not_linked(as_role, role):
    response = as_role(role).get(url(LANDING.get(role, "dashboard")))
    body, links = response.content.decode(), nav_of(response)
    hrefs = {link["href"] for link in links.top}
    visible = {name for items in EXPECTED[role].values() for name in items}
    for name in {*MEMBERS_ITEMS, *SETTINGS_ITEMS, "dashboard", "member_space"} - visible:
        assert url(name) not in hrefs, name
    # Sections not built yet have no placeholder entry (they appear once their app registers them).
    for label in FUTURE_LABELS:
        if not any(str(s.label) == label for s in sections.values()):
            assert label not in {link["text"] for link in links.top}
    if role == "member":
        assert f'href="{url("dashboard")}"' not in body and f'href="{url("member_list")}"' not in body


@pytest.mark.parametrize(("role", "page_name", "items"), [
    ("coordinator", "member_list", MEMBERS_ITEMS),
    ("assistant", "member_list", MEMBERS_ITEMS),
    ("viewer", "member_list", ["member_list", "campaign_list", "reminder_settings"]),
    ("treasurer", "membership_queue", ["member_list", "membership_queue", "campaign_list", "reminder_settings"]),
    ("coordinator", "team", SETTINGS_ITEMS),
])
def test_the_secondary_navigation_lists_the_items_of_the_active_section(as_role, role, page_name, items):
    links = nav_of(as_role(role).get(url(page_name)))
    assert [link["href"] for link in links.sub] == [url(name) for name in items]
    current = [link for link in links.sub if link["current"]]
    assert [(link["href"], link["current"]) for link in current] == [(url(page_name), "page")]
    assert [link["href"] for link in links.tree if link["current"] == "page"] == [url(page_name)]
    section = "Adhérents" if page_name != "team" else "Équipe & paramètres"
    assert links.subnav_label == f"Rubrique {section}"
    top_current = [(link["text"], link["current"]) for link in links.top if link["current"]]
    assert top_current == [(section, "true")]  # the current section, its secondary nav names the page


@pytest.mark.parametrize(("role", "page_name"), [("assistant", "team"), ("coordinator", "dashboard"),
                                            ("member", "member_space")])
def test_a_section_of_one_item_has_no_secondary_navigation(as_role, role, page_name):
    links = nav_of(as_role(role).get(url(page_name)))
    assert links.sub == [] and links.subnav_label is None
    assert [(link["href"], link["current"]) for link in links.top if link["current"]] == [(url(page_name), "page")]


@pytest.mark.parametrize(("page_name", "kwargs", "active"), [
    ("member_create", {}, "member_list"),
    ("campaign_create", {}, "campaign_list"),
    ("import_upload", {}, "import_list"),  # under /adherents/ too, but its own item
    ("lapsed_members", {}, "member_list"),
    ("membership_settings", {}, "membership_settings"),
    ("audit_log", {}, "audit_log"),
])
def test_pages_behind_an_item_make_it_active(coordinator_client, page_name, kwargs, active):
    response = coordinator_client.get(url(page_name, **kwargs))
    nav = response.context["nav"]
    assert nav.active_item.item.url_name == active
    current = [link["href"] for link in nav_of(response).sub if link["current"] == "page"]
    assert current == [url(active)]


def test_member_detail_keeps_the_directory_active(coordinator_client, claire):
    response = coordinator_client.get(url("member_detail", pk=claire.pk))
    assert response.context["nav"].active_item.item.url_name == "member_list"


def test_member_pages_keep_the_member_space_active(as_role):
    response = as_role("member").get(url("space_profile"))
    assert response.status_code == 200
    assert response.context["nav"].active_section.key == "member_space"


def test_pages_outside_an_association_have_no_sections(coordinator_client):
    links = nav_of(coordinator_client.get(reverse("profile")))
    assert links.top == [] and links.sub == []


# --- No query ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "page_name"), [("coordinator", "member_list"), ("treasurer", "dashboard"),
                                            ("member", "member_space")])
def test_the_navigation_adds_no_query(as_role, monkeypatch, role, page_name):
    client = as_role(role)
    client.get(url(page_name))  # warm up (session, caches)
    with CaptureQueriesContext(connection) as with_nav:
        response = client.get(url(page_name))
    assert len(core(response.context["nav"])) >= 1
    monkeypatch.setattr("associations.context_processors.build_navigation", lambda request: Navigation())
    with CaptureQueriesContext(connection) as without_nav:
        response = client.get(url(page_name))
    assert nav_of(response).top == []
    assert len(with_nav) == len(without_nav), [q["sql"] for q in with_nav]


def test_building_the_navigation_runs_no_query(coordinator_client, django_assert_num_queries):
    request = coordinator_client.get(url("member_list")).wsgi_request
    with django_assert_num_queries(0):
        nav = build_navigation(request)
    assert nav.active_item.item.url_name == "member_list"


# --- Sections registered by other apps -----------------------------------------------------------


def test_a_section_nobody_may_see_never_appears(as_role, temporary_sections):
    register_capability("probe_nobody", set(), "Personne")
    temporary_sections.append((capabilities, "probe_nobody"))
    register_section(NavSection("probe_hidden", "Rubrique secrète", "incognito", order=30, items=(
        NavItem("Secret", "dashboard", "probe_nobody"),
    )))
    temporary_sections.append((sections, "probe_hidden"))
    assert navigation.check_navigation() == []
    for role in EXPECTED:
        response = as_role(role).get(url(LANDING.get(role, "dashboard")))
        assert "probe_hidden" not in [s.key for s in response.context["nav"].sections]
        assert "Rubrique secrète" not in response.content.decode()


def test_a_section_for_an_existing_capability_appears_in_its_order(as_role, temporary_sections):
    register_section(NavSection("probe_finances", "Finances (essai)", "cash-coin", order=50, items=(
        NavItem("Budget (essai)", "reminder_settings", "view_campaigns", prefixes=("reminder_",)),
        NavItem("Dépenses (essai)", "campaign_list", ("probe_unknown", "manage_campaigns")),
    )))
    temporary_sections.append((sections, "probe_finances"))

    viewer = as_role("viewer").get(url("reminder_settings"))
    keys = [s.key for s in viewer.context["nav"].sections]
    assert keys.index("members") < keys.index("probe_finances")
    links = nav_of(viewer)
    assert "Budget (essai)" in [link["text"] for link in links.top]  # one item for a viewer: its label
    # Two items on the same URL name: the first registered (in section order) is the active one.
    assert viewer.context["nav"].active_section.key == "members"

    coordinator = nav_of(as_role("coordinator").get(url("dashboard")))
    assert "Finances (essai)" in [link["text"] for link in coordinator.top]
    assert url("reminder_settings") in [link["href"] for link in coordinator.top]

    member = as_role("member").get(url("member_space"))
    assert "probe_finances" not in [s.key for s in member.context["nav"].sections]
