"""The navigation in a real browser: the navbar stays on one line from 1000 px up (nine entries at
1200 px), the secondary navigation of a section, the phone menu, and axe on the pages it frames.

Screenshots go to ``$SCREENSHOTS_DIR`` (``SCREENSHOTS_DIR=/tmp`` gives /tmp/nav-1000.png, /tmp/nav-375.png…).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from associations.models import Role
from associations.navigation import NavItem, NavSection, register_section, sections
from tests.browser.conftest import axe_violations, format_violations, login, screenshot
from tests.factories import PASSWORD, AssociationFactory, UserFactory, grant, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP_HEIGHT = 800
PHONE = {"width": 375, "height": 740}
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")

# What the navbar holds, measured in the page: the brand, the toggler, the sections' links and the
# switcher and account buttons that are displayed.
MEASURE_NAVBAR = """() => {
  const nav = document.querySelector('header > nav.navbar');
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const entries = [...nav.querySelectorAll(
    '.navbar-brand, .navbar-toggler, .navbar-sections a.nav-section-link, #switch-association, #account-menu'
  )].filter(shown).map(el => {
    const box = el.getBoundingClientRect();
    return {text: el.textContent.trim().replace(/\\s+/g, ' '), top: box.top, bottom: box.bottom, right: box.right,
            height: box.height};
  });
  return {height: nav.getBoundingClientRect().height, entries, pageWidth: document.documentElement.scrollWidth};
}"""


@pytest.fixture
def alpha(db):
    return AssociationFactory(name="CPTS du Pays de Loches et de la Touraine du Sud", slug="alpha", population=120_000)


@pytest.fixture
def coordinator(alpha):
    """A coordinator of two associations (so the switcher shows) with a name of ordinary length."""
    user = UserFactory(email="coordination@alpha.example.org", first_name="Marie-Claire", last_name="Dubois-Martin")
    grant(user, alpha, Role.COORDINATOR)
    grant(user, AssociationFactory(name="CPTS Beta", slug="beta"), Role.VIEWER)
    for first, last in (("Claire", "Dupont"), ("Paul", "Martin"), ("Nina", "Voisin")):
        make_member(alpha, first_name=first, last_name=last, email=f"{first.lower()}@example.org")
    return user


@pytest.fixture
def future_sections():
    """Gouvernance, Contrat ACI, Finances and Rapport as their apps will register them (same orders),
    here with a capability every staff role holds: the navbar's worst case."""
    future = [("governance", "Gouvernance", "bank", 30), ("aci", "Contrat ACI", "file-earmark-text", 40),
              ("finances", "Finances", "cash-coin", 50), ("report", "Rapport", "graph-up", 60)]
    labels = [label for _key, label, _icon, _order in future]
    future = [entry for entry in future if entry[0] not in sections]  # sections already built stay as they are
    for key, label, icon, order in future:
        register_section(NavSection(f"probe_{key}", label, icon, order=order, items=(
            NavItem(label, "dashboard", "view_dashboard"), NavItem(f"{label} (2)", "team", "view_team"),
        )))
    yield labels
    for key, *_rest in future:
        sections.unregister(f"probe_{key}")


@pytest.fixture
def open_page(new_context, live_server, coordinator):
    """A logged-in page of the coordinator at a given viewport width."""

    def _open(width: int, path: str = "/a/alpha/", height: int = DESKTOP_HEIGHT, **context_args):
        page = new_context(viewport={"width": width, "height": height}, **context_args).new_page()
        login(page, live_server, coordinator.email, PASSWORD)
        expect(page).to_have_url(f"{live_server.url}/")  # two associations: the picker first
        page.goto(f"{live_server.url}{path}")
        return page

    return _open


def assert_navbar_on_one_line(page, width: int) -> dict:
    measure = page.evaluate(MEASURE_NAVBAR)
    entries = measure["entries"]
    assert len(entries) >= 2, entries
    tops, bottoms = [e["top"] for e in entries], [e["bottom"] for e in entries]
    # One row: every entry overlaps the same band, no entry is taller than one line, nothing overflows.
    assert max(tops) < min(bottoms), entries
    assert all(e["height"] < 48 for e in entries), entries
    assert measure["height"] < 72, measure
    assert all(e["right"] <= width + 0.5 for e in entries), entries
    assert measure["pageWidth"] <= width, measure
    return measure


def assert_no_violation(page) -> None:
    violations = axe_violations(page, impacts=ALL_IMPACTS)
    assert not violations, f"axe violations on {page.url}:\n{format_violations(violations)}"


# --- Wide screens -----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1000, 1280])
def test_the_navbar_fits_on_one_line(open_page, width):
    page = open_page(width)
    measure = assert_navbar_on_one_line(page, width)
    texts = [e["text"] for e in measure["entries"]]
    screenshot(page, f"nav-{width}", full_page=False)
    if width < 1200:  # collapsed: the brand and the toggler, which opens every section
        expect(page.locator("#mainnav")).to_be_hidden()
        page.locator(".navbar-toggler").click()
        expect(page.locator("#mainnav")).to_have_class(re.compile(r"\bshow\b"))
        expect(page.locator("#mainnav").get_by_role("link", name="Paramètres des adhésions")).to_be_visible()
        screenshot(page, f"nav-{width}-open", full_page=False)
    else:
        expect(page.locator(".navbar-toggler")).to_be_hidden()
        assert {"Tableau de bord", "Adhérents", "Équipe & paramètres"} <= set(texts), texts

    page.goto(page.url + "adherents/")
    assert_navbar_on_one_line(page, width)


@pytest.mark.parametrize("width", [1200, 1280, 1440])
def test_nine_entries_still_fit_once_the_other_apps_register_their_sections(open_page, future_sections, width):
    page = open_page(width)
    measure = assert_navbar_on_one_line(page, width)
    texts = [e["text"] for e in measure["entries"]]
    expected = ["Tableau de bord", "Adhérents", *future_sections, "Équipe & paramètres"]
    assert [t for t in texts if t in expected] == expected, texts
    assert len(measure["entries"]) == 1 + len(expected) + 2  # brand, sections, switcher, account
    # The switcher keeps its name for assistive technologies when its text is hidden.
    expect(page.get_by_role("button", name="Changer d'association")).to_be_visible()
    screenshot(page, f"nav-{width}-nine", full_page=False)


@pytest.mark.parametrize("width", [1000, 1280])
def test_the_secondary_navigation_lists_the_members_section(open_page, live_server, width):
    page = open_page(width, "/a/alpha/adherents/")
    subnav = page.get_by_role("navigation", name="Rubrique Adhérents")
    expect(subnav).to_be_visible()
    expect(subnav.get_by_role("link")).to_have_text(["Annuaire", "À valider", "Campagnes", "Relances", "Import"])
    expect(subnav.get_by_role("link", name="Annuaire")).to_have_attribute("aria-current", "page")
    if width >= 1200:
        expect(page.locator("#mainnav a.nav-section-link.active")).to_have_text("Adhérents")
    screenshot(page, f"nav-{width}-members", full_page=False)

    subnav.get_by_role("link", name="À valider").click()
    expect(page).to_have_url(f"{live_server.url}/a/alpha/adhesions/")
    expect(subnav.get_by_role("link", name="À valider")).to_have_attribute("aria-current", "page")
    expect(subnav.locator("[aria-current]")).to_have_count(1)

    # No secondary navigation on the dashboard (a section of one item).
    page.goto(f"{live_server.url}/a/alpha/")
    expect(page.locator("nav.subnav")).to_have_count(0)
    if width >= 1200:  # from the dashboard: the section, then its item
        page.locator("#mainnav").get_by_role("link", name="Adhérents").click()
        expect(page).to_have_url(f"{live_server.url}/a/alpha/adherents/")
        subnav.get_by_role("link", name="À valider").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("À valider")


# --- Phone ------------------------------------------------------------------------------------------


def test_on_a_phone_the_toggler_opens_every_section(open_page, live_server):
    page = open_page(PHONE["width"], height=PHONE["height"], is_mobile=True, has_touch=True)
    assert_navbar_on_one_line(page, PHONE["width"])
    toggler, menu = page.locator(".navbar-toggler"), page.locator("#mainnav")
    expect(menu).to_be_hidden()
    screenshot(page, "nav-375", full_page=False)

    toggler.click()
    expect(menu).to_have_class(re.compile(r"\bshow\b"))
    expect(toggler).to_have_attribute("aria-expanded", "true")
    for name in ("Tableau de bord", "Annuaire", "À valider", "Campagnes", "Relances", "Import", "Équipe",
                 "Journal", "Paramètres des adhésions"):
        link = menu.get_by_role("link", name=name, exact=True)
        expect(link).to_have_count(1)
        link.scroll_into_view_if_needed()
        expect(link).to_be_visible()
    expect(menu.get_by_role("link", name="Tableau de bord")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("list", name="Adhérents")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "nav-375-open", full_page=False)
    assert_no_violation(page)

    menu.get_by_role("link", name="Journal").click()
    expect(page).to_have_url(f"{live_server.url}/a/alpha/journal/")
    expect(page.get_by_role("navigation", name="Rubrique Équipe & paramètres")).to_be_visible()


def test_on_a_phone_the_secondary_navigation_scrolls_sideways(open_page, live_server):
    page = open_page(PHONE["width"], "/a/alpha/adherents/", height=PHONE["height"], is_mobile=True, has_touch=True)
    subnav = page.get_by_role("navigation", name="Rubrique Adhérents")
    expect(subnav).to_be_visible()
    items = subnav.locator(".subnav-items")
    size = items.evaluate(
        "el => ({scroll: el.scrollWidth, client: el.clientWidth, right: el.getBoundingClientRect().right})"
    )
    assert size["right"] <= PHONE["width"] and size["scroll"] > size["client"], size  # scrolls, does not overflow
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "nav-375-members", full_page=False)

    subnav.get_by_role("link", name="Import").click()  # scrolled into view, then followed
    expect(page).to_have_url(f"{live_server.url}/a/alpha/adherents/import/")
    current = page.get_by_role("navigation", name="Rubrique Adhérents").get_by_role("link", name="Import")
    expect(current).to_have_attribute("aria-current", "page")
    expect(current).to_be_in_viewport()  # the page opens with its own tab shown
    screenshot(page, "nav-375-import", full_page=False)


# --- Accessibility ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [375, 1000, 1280])
def test_dashboard_and_member_list_have_no_axe_violation(open_page, live_server, width):
    phone = {"is_mobile": True, "has_touch": True} if width < 500 else {}
    page = open_page(width, height=PHONE["height"] if phone else DESKTOP_HEIGHT, **phone)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    assert_no_violation(page)
    page.goto(f"{live_server.url}/a/alpha/adherents/")
    expect(page.get_by_role("navigation", name="Rubrique Adhérents")).to_be_visible()
    assert_no_violation(page)
