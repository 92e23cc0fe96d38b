"""End to end in the browser: the coordinator writes a renewal campaign (an unknown placeholder is
refused next to the field), narrows the audience with the directory's filters and sees the count follow
(htmx), launches it, and the campaign page shows the result; the professional clicks the unsubscribe
link of the e-mail received and confirms. Pages pass axe and fit a phone."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_scopes import scope
from playwright.sync_api import expect

from associations.models import Campaign, MailStatus, Member, MemberStatus, OutgoingMail, Role
from tests.browser.conftest import PHONE_VIEWPORT, assert_no_axe_violations, login, screenshot
from tests.browser.test_renewal import assert_fits_the_phone
from tests.factories import PASSWORD, AssociationFactory, UserFactory, grant, make_member, set_tariffs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_write_target_launch_and_unsubscribe(new_context, page, live_server):
    alpha = AssociationFactory(name="CPTS Alpha", slug="alpha", population=120_000,
                               contact_email="coordination@alpha.example.org")
    set_tariffs(alpha)
    coordinator = UserFactory(email="coordination@alpha.example.org", first_name="Camille", last_name="Martin")
    grant(coordinator, alpha, Role.COORDINATOR)
    for number in range(3):
        make_member(alpha, first_name=f"Claire{number}", last_name="Renouvelle", email=f"claire{number}@exemple.fr",
                    status=MemberStatus.TO_RENEW)
    make_member(alpha, first_name="Paul", last_name="Prospect", email="paul@exemple.fr")
    login(page, live_server, coordinator.email, PASSWORD)

    page.goto(f"{live_server.url}/a/alpha/campagnes/nouvelle/")
    form = page.locator("#campaign-form")
    form.locator("[name=name]").fill("Renouvellement 2027")
    form.locator("[name=subject]").fill("Votre adhésion à {association}")
    form.locator("[name=body]").fill("Bonjour {prenom},\n\nRenouvelez ici : {lien_renouvellement}\n\n{signature}")
    # The renewal kind starts with « à renouveler »: 3 of the 4 members.
    expect(page.locator("#audience-count")).to_have_text("3")
    form.locator("[name='audience-status']").select_option("")
    expect(page.locator("#audience-count")).to_have_text("4")  # updated by htmx, no reload
    form.locator("[name='audience-status']").select_option("to_renew")
    expect(page.locator("#audience-count")).to_have_text("3")
    form.locator("button[type=submit]").click()
    expect(page.locator("#campaign-form")).to_contain_text("{signature}")  # the error names the placeholder
    with scope(association=alpha):
        assert not Campaign.objects.exists()
    form.locator("[name=body]").fill("Bonjour {prenom},\n\nRenouvelez ici : {lien_renouvellement}")
    form.locator("button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renouvellement 2027")
    assert_no_axe_violations(page)
    screenshot(page, "campaign-before-launch")

    mail.outbox.clear()
    page.locator("#launch-confirm summary").click()
    page.get_by_role("button", name=re.compile("Confirmer l'envoi à 3 destinataires")).click()
    expect(page.locator("main")).to_contain_text("Envoi terminé", timeout=15_000)
    with scope(association=alpha):
        assert OutgoingMail.objects.filter(status=MailStatus.SENT).count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == [f"claire{n}@exemple.fr" for n in range(3)]
    assert_no_axe_violations(page)
    screenshot(page, "campaign-after-launch")
    for path in ("campagnes/", "campagnes/1/destinataires/", "relances/", "campagnes/nouvelle/"):
        page.goto(f"{live_server.url}/a/alpha/{path}")
        assert_no_axe_violations(page)

    # The professional unsubscribes from the e-mail's link, on a phone.
    message = next(m for m in mail.outbox if m.to == ["claire0@exemple.fr"])
    link = re.search(r"(http://\S+/e/desinscription/\S+/)", message.body).group(1)
    phone = new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True).new_page()
    phone.goto(link)
    assert_no_axe_violations(phone)
    assert_fits_the_phone(phone)
    phone.get_by_role("button", name="Confirmer ma désinscription").click()
    expect(phone.locator("main")).to_contain_text("vous ne recevrez plus")
    with scope(association=alpha):
        assert Member.objects.get(email="claire0@exemple.fr").mail_opt_out_at is not None
