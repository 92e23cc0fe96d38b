"""Playwright fixtures and helpers for the browser tests (Debian's Chromium, see RECIPES.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

# The Django ORM (factories, mail outbox checks) and the sync Playwright page run in the same thread,
# which Django sees as an async context because of Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE_PATH = Path(django_settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
DEFAULT_TIMEOUT_MS = 10_000
PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # No viewport here: pytest-playwright passes these *and* new_context()'s kwargs to
    # browser.new_context(), so a viewport in both places would be a duplicate keyword.
    return {**browser_context_args, "locale": "fr-FR"}


@pytest.fixture
def new_context(new_context):
    """Every context (the default ``page``'s and the ones a test opens) fails fast: 10 s per wait."""

    def _new_context(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        return context

    return _new_context


@pytest.fixture
def page(page):
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return page


@pytest.fixture(autouse=True)
def _site_url_is_live_server(_isolated_settings, live_server, settings):
    """E-mailed links (invitations) must point at the live server, not at http://testserver
    (tests/conftest.py's ``_isolated_settings`` sets that; this runs after it)."""
    settings.SITE_URL = live_server.url


# --- Helpers ---------------------------------------------------------------------------------


def login(page, live_server, email: str, password: str) -> None:
    """Fill allauth's login form (fields ``login`` and ``password``) and submit it."""
    page.goto(f"{live_server.url}/accounts/login/")
    form = page.locator("main form[action='/accounts/login/']")
    form.locator("input[name='login']").fill(email)
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("button[type='submit']").click()


def logout(page) -> None:
    """Log out through the account menu (dropdown, then « Se déconnecter »)."""
    page.locator("#account-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Se déconnecter").click()


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core (WCAG 2.0 A/AA and 2.1 AA rules) on the current page; return the serious and
    critical violations."""
    page.add_script_tag(path=str(AXE_PATH))
    results = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    return [v for v in results["violations"] if v.get("impact") in impacts]


def format_violations(violations: list[dict]) -> str:
    """A readable assertion message: rule id, impact, help, and the CSS targets of each node."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    target {node['target']}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe violations on {page.url}:\n{format_violations(violations)}"


def screenshot(page, name: str, full_page: bool = True) -> None:
    """Save ``<SCREENSHOTS_DIR>/<name>.png`` when SCREENSHOTS_DIR is set (for humans; never in the repo)."""
    directory = os.environ.get("SCREENSHOTS_DIR")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=full_page)
