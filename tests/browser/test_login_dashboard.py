"""Login, landing page, association switching, logout, accessibility and the phone navbar."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from associations.models import Role
from tests.browser.conftest import PHONE_VIEWPORT, assert_no_axe_violations, login, logout, screenshot
from tests.factories import PASSWORD, UserFactory, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alpha(association):
    return association


@pytest.fixture
def beta(other_association):
    return other_association


@pytest.fixture
def coordinator(alpha):
    user = UserFactory(email="coordination@alpha.example.org", first_name="Camille", last_name="Martin")
    grant(user, alpha, Role.COORDINATOR)
    return user


def test_coordinator_lands_on_dashboard_then_logs_out(page, live_server, alpha, coordinator):
    login(page, live_server, coordinator.email, PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/a/alpha/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.locator(".navbar-brand")).to_contain_text("CPTS Alpha")
    expect(page.locator("#account-menu")).to_contain_text("Camille Martin")

    logout(page)

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator("main input[name='login']")).to_be_visible()
    expect(page.locator("#account-menu")).to_have_count(0)


def test_user_of_two_associations_picks_then_switches(page, live_server, alpha, beta):
    user = UserFactory(email="multi@example.org", first_name="Dominique", last_name="Bernard")
    grant(user, alpha, Role.COORDINATOR)
    grant(user, beta, Role.VIEWER)

    login(page, live_server, user.email, PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez une association")
    cards = page.locator("main a.card")
    expect(cards).to_have_count(2)
    expect(cards.locator("h2")).to_have_text(["CPTS Alpha", "CPTS Beta"])  # ordered by name

    cards.first.click()
    expect(page).to_have_url(f"{live_server.url}/a/alpha/")
    expect(page.locator(".navbar-brand")).to_contain_text("CPTS Alpha")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")

    page.locator("#switch-association").click()
    menu = page.locator("ul[aria-labelledby='switch-association']")
    expect(menu).to_be_visible()
    expect(menu.locator("a.dropdown-item.active")).to_have_text("CPTS Alpha")
    menu.get_by_role("link", name="CPTS Beta").click()

    expect(page).to_have_url(f"{live_server.url}/a/beta/")
    expect(page.locator(".navbar-brand")).to_contain_text("CPTS Beta")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    # The role shown in the account menu follows the association: viewer in Beta.
    page.locator("#account-menu").click()
    expect(page.locator("ul[aria-labelledby='account-menu']")).to_contain_text("Lecture seule")


def test_login_page_and_dashboard_have_no_serious_axe_violation(page, live_server, alpha, coordinator):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("main input[name='login']")).to_be_visible()
    screenshot(page, "login")
    assert_no_axe_violations(page)

    login(page, live_server, coordinator.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/a/alpha/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    screenshot(page, "dashboard-desktop")
    assert_no_axe_violations(page)


def test_phone_navbar_collapses_and_toggler_opens_it(new_context, live_server, alpha, coordinator):
    context = new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    page = context.new_page()
    login(page, live_server, coordinator.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/a/alpha/")

    toggler = page.locator(".navbar-toggler")
    menu = page.locator("#mainnav")
    team_link = menu.get_by_role("link", name="Équipe")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(team_link).to_be_hidden()
    expect(page.locator("#account-menu")).to_be_hidden()
    screenshot(page, "dashboard-phone")

    toggler.click()

    expect(menu).to_have_class(re.compile(r"\bshow\b"))  # Bootstrap's collapse finished opening
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(team_link).to_be_visible()
    expect(page.locator("#account-menu")).to_be_visible()
    screenshot(page, "dashboard-phone-menu-open")

    team_link.click()
    expect(page).to_have_url(f"{live_server.url}/a/alpha/equipe/")
