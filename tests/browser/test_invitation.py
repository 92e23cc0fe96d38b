"""End to end: a coordinator invites a person, who opens the e-mailed link, creates an account and
lands on the association's dashboard; the link then no longer works."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_scopes import scope
from playwright.sync_api import expect

from associations.models import Invitation, Role, User, UserRole
from tests.browser.conftest import login, screenshot
from tests.factories import PASSWORD, AssociationFactory, UserFactory, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVITEE = "nouvelle.assistante@example.org"
INVITEE_PASSWORD = "Un-mot-de-passe-solide-2024"


def test_invitation_end_to_end(page, new_context, live_server):
    alpha = AssociationFactory(name="CPTS Alpha", slug="alpha", population=120_000)
    coordinator = UserFactory(email="coordination@alpha.example.org", first_name="Camille", last_name="Martin")
    grant(coordinator, alpha, Role.COORDINATOR)
    mail.outbox.clear()

    # --- The coordinator invites an assistant from the « Équipe » page.
    login(page, live_server, coordinator.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/a/alpha/")
    page.locator("#mainnav").get_by_role("link", name="Équipe").click()
    expect(page).to_have_url(f"{live_server.url}/a/alpha/equipe/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Équipe de l'association")

    invite_form = page.locator("form[action='/a/alpha/equipe/inviter/']")
    invite_form.get_by_label("Adresse e-mail").fill(INVITEE)
    invite_form.get_by_label("Rôle").select_option(label="Assistant·e")
    invite_form.get_by_role("button", name="Envoyer l'invitation").click()

    expect(page).to_have_url(f"{live_server.url}/a/alpha/equipe/")
    expect(page.get_by_role("alert")).to_contain_text(f"Invitation envoyée à {INVITEE}.")
    invitations = page.locator("section[aria-labelledby='inv-title'] tbody tr")
    expect(invitations).to_have_count(1)
    expect(invitations.first).to_contain_text(INVITEE)
    expect(invitations.first).to_contain_text("Assistant·e")

    # --- The e-mail went out (eager Celery, after commit) with a link to the live server.
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    message = mail.outbox[0]
    assert message.to == [INVITEE]
    links = re.findall(rf"{re.escape(live_server.url)}/invitation/[^/\s]+/", message.body)
    assert len(links) == 1, message.body
    link = links[0]

    # --- The invitee, in a fresh browser (no session), creates an account.
    invitee_page = new_context().new_page()
    invitee_page.goto(link)
    expect(invitee_page.get_by_role("heading", level=1)).to_have_text("Rejoindre CPTS Alpha")
    expect(invitee_page.locator("main")).to_contain_text(INVITEE)
    signup = invitee_page.locator("main form")
    # Labels read "Nom *": the asterisk marks a required field (aria-hidden, but in the label's text).
    signup.get_by_label(re.compile(r"^Prénom\b")).fill("Alice")
    signup.get_by_label(re.compile(r"^Nom\b")).fill("Durand")
    signup.get_by_label(re.compile(r"^Mot de passe\b")).fill(INVITEE_PASSWORD)
    signup.get_by_label(re.compile(r"^Confirmation du mot de passe\b")).fill(INVITEE_PASSWORD)
    screenshot(invitee_page, "invitation-accept-form")
    signup.get_by_role("button", name="Créer mon compte et rejoindre l'association").click()

    expect(invitee_page).to_have_url(f"{live_server.url}/a/alpha/")
    expect(invitee_page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(invitee_page.get_by_role("alert")).to_contain_text(
        "Votre compte est créé. Bienvenue dans l'équipe de CPTS Alpha."
    )
    account_menu = invitee_page.locator("#account-menu")
    expect(account_menu).to_contain_text("Alice Durand")
    account_menu.click()
    expect(invitee_page.locator("ul[aria-labelledby='account-menu']")).to_contain_text("Rôle : Assistant·e")
    # Assistants do not manage the association's settings.
    expect(invitee_page.locator("#mainnav").get_by_role("link", name="Paramètres")).to_have_count(0)

    user = User.objects.get(email=INVITEE)
    assert user.check_password(INVITEE_PASSWORD)
    with scope(association=alpha):
        assert UserRole.objects.filter(association=alpha, user=user, role=Role.ASSISTANT).exists()
        assert Invitation.objects.get(association=alpha, email=INVITEE).accepted_by == user

    # --- The link is single-use.
    response = invitee_page.goto(link)
    assert response is not None and response.status == 410
    expect(invitee_page.get_by_role("heading", level=1)).to_contain_text("n'est pas valable")
    expect(invitee_page.locator("main")).to_contain_text("Cette invitation a déjà été utilisée.")
