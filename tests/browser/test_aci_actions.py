"""The actions screens (list, detail, form, calendar) pass axe on a desktop and on a phone."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from associations.models import Role
from missions import services_actions as services
from missions.models import ActionType
from tests.aci.conftest import make_contract
from tests.browser.conftest import PHONE_VIEWPORT, assert_no_axe_violations, login, screenshot
from tests.browser.test_renewal import assert_fits_the_phone
from tests.factories import PASSWORD, AssociationFactory, UserFactory, ensure_professions, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_actions_pages_axe(new_context, page, live_server):
    ensure_professions()
    alpha = AssociationFactory(name="CPTS Alpha", slug="alpha", population=120_000)
    coordinator = UserFactory(email="coordination@alpha.example.org")
    grant(coordinator, alpha, Role.COORDINATOR)
    contract = make_contract(alpha)
    today = timezone.localdate()
    with scope(association=alpha):
        mission = contract.missions.first()
        t = ActionType.objects.first()
        action = None
        for i in range(4):
            action = services.create_action(alpha, coordinator, {"mission": mission, "action_type": t,
                                            "title": f"RPC numéro {i}", "date": today - timedelta(days=i * 3),
                                            "place": "Maison de santé"}, {None: 4})
    login(page, live_server, coordinator.email, PASSWORD)
    base = f"{live_server.url}/a/alpha/aci/actions/"
    for url in ("", f"{action.pk}/", "nouvelle/", "calendrier/"):
        page.goto(base + url)
        assert_no_axe_violations(page)
        screenshot(page, f"actions-{url.strip('/').replace('/', '-') or 'list'}")
    page.goto(base + "nouvelle/")
    page.locator("#action-form [name=title]").fill("Hors contrat")
    page.locator("#action-form [name=mission]").select_option(index=1)
    page.locator("#action-form [name=date]").fill("2000-01-01")
    page.locator("#action-form [name=participants_autres]").fill("-2")
    page.locator("#action-form button[type=submit]").click()
    from playwright.sync_api import expect
    expect(page.locator("#id_date_errors")).to_contain_text("en dehors des cinq années")
    expect(page.locator("#id_participants_autres_errors")).to_contain_text("négatif")
    expect(page.locator("#id_action_type_errors")).to_be_visible()
    assert_no_axe_violations(page)
    phone = new_context(viewport=PHONE_VIEWPORT).new_page()
    login(phone, live_server, coordinator.email, PASSWORD)
    for url in ("", "calendrier/", "nouvelle/"):
        phone.goto(base + url)
        assert_no_axe_violations(phone)
        assert_fits_the_phone(phone)
        screenshot(phone, f"actions-phone-{url.strip('/') or 'list'}")
