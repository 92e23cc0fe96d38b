"""End to end, on a phone: a professional renews by personal link (corrects the phone number, accepts
the documents, chooses the bank transfer, sees the IBAN and reference); the coordinator validates the
payment; the professional logs in with an e-mailed code, opens « Mon adhésion » and downloads the
attestation, whose text names them and the period."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django_scopes import scope
from playwright.sync_api import expect

from associations.membership import services
from associations.models import AssociationDocument, Membership, MembershipStatus, Role, User
from tests.browser.conftest import PHONE_VIEWPORT, assert_no_axe_violations, login, screenshot
from tests.factories import PASSWORD, AssociationFactory, UserFactory, grant, make_member, set_tariffs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IBAN = "FR7630006000011234567890189"
EMAIL = "claire.dupont@example.org"


def assert_fits_the_phone(page) -> None:
    """No horizontal scrolling: the page is as wide as the phone's screen."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide on a {widths[1]}px screen"


def test_renewal_by_link_validation_and_attestation(new_context, page, live_server, tmp_path):
    alpha = AssociationFactory(name="CPTS Alpha", slug="alpha", population=120_000, iban=IBAN, bic="AGRIFRPPXXX")
    set_tariffs(alpha)
    coordinator = UserFactory(email="coordination@alpha.example.org", first_name="Camille", last_name="Martin")
    grant(coordinator, alpha, Role.COORDINATOR)
    member = make_member(alpha, civility="dr", first_name="Claire", last_name="Dupont", email=EMAIL,
                         phone="06 00 00 00 00", address="3 rue des Lilas", postal_code="37000", city="Tours")
    with scope(association=alpha):
        for kind in ("statutes", "rules", "privacy"):
            document = AssociationDocument(association=alpha, kind=kind)
            document.file.save(f"{kind}.pdf", ContentFile(b"%PDF-1.4 " + kind.encode()), save=True)
        link = services.renewal_url(member)  # SITE_URL is the live server (tests/browser/conftest.py)
    assert link.startswith(live_server.url)
    mail.outbox.clear()

    # --- The professional opens the personal link on a phone.
    phone = new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True).new_page()
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Renouveler mon adhésion")
    expect(phone.locator("#amount-due")).to_have_text("30,00 €")
    form = phone.locator("main form:has(input[name='method'])")
    expect(form.get_by_label("Téléphone")).to_have_value("06 00 00 00 00")
    screenshot(phone, "renewal-form-phone")
    assert_fits_the_phone(phone)
    assert_no_axe_violations(phone)

    form.get_by_label("Téléphone").fill("06 12 34 56 78")
    form.get_by_label("J'ai lu et j'accepte les statuts de l'association").check()
    form.get_by_label("J'ai lu et j'accepte le règlement intérieur").check()
    form.get_by_label("J'ai lu la notice d'information sur mes données personnelles (RGPD)").check()
    form.get_by_label("Virement bancaire").check()
    form.get_by_role("button", name="Confirmer").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Renouvellement enregistré")
    expect(phone.locator("#pending-status")).to_contain_text("en attente de validation par la coordination")
    with scope(association=alpha):
        membership = Membership.objects.get(member=member)
        member.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING and membership.chosen_method == "transfer"
    assert membership.documents_accepted_at is not None and member.phone == "06 12 34 56 78"
    main = phone.locator("main")
    expect(main).to_contain_text(IBAN)
    expect(phone.locator("#payment-reference")).to_have_text(membership.payment_reference)
    screenshot(phone, "renewal-confirmation-phone")
    assert_fits_the_phone(phone)
    assert_no_axe_violations(phone)

    # --- The coordinator logs in and validates the transfer once it arrived.
    login(page, live_server, coordinator.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/a/alpha/")
    page.locator("#mainnav").get_by_role("link", name="Adhérents").click()
    page.get_by_role("navigation", name="Rubrique Adhérents").get_by_role("link", name="À valider").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("À valider")
    queue_row = page.locator("main tr").filter(has_text=membership.payment_reference)
    expect(queue_row).to_contain_text("Claire DUPONT")
    expect(queue_row).to_contain_text("Virement")
    queue_row.get_by_role("button", name=re.compile("Valider le paiement reçu")).click()
    expect(page.get_by_role("alert").first).to_contain_text("Paiement validé")
    with scope(association=alpha):
        membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAID
    attestation_mails = [m for m in mail.outbox if m.to == [EMAIL] and m.attachments]
    assert len(attestation_mails) == 1

    # --- Back on the link: this year is paid, so the page offers next year's renewal and access to the
    # member space; the professional asks for access, then logs in with a code.
    phone.reload()
    expect(phone.locator("#next-period-note")).to_contain_text(
        f"Votre adhésion {membership.period_label} est déjà réglée")
    phone.get_by_role("button", name="Accéder à mon espace adhérent").click()
    expect(phone).to_have_url(re.compile(r"/accounts/login/code/\?next=/a/alpha/mon-adhesion/$"))
    assert User.objects.filter(email=EMAIL).exists()
    request_form = phone.locator("main form:has(input[name='email'])")
    request_form.locator("input[name='email']").fill(EMAIL)
    outbox_before = len(mail.outbox)
    request_form.locator("button[type='submit']").click()
    code_form = phone.locator("main form:has(input[name='code'])")
    expect(code_form).to_be_visible()
    code_mails = mail.outbox[outbox_before:]
    assert len(code_mails) == 1 and code_mails[0].to == [EMAIL]
    code = re.search(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{4})\s*$", code_mails[0].body, re.M)
    assert code, code_mails[0].body
    code_form.locator("input[name='code']").fill(code.group(1))
    code_form.locator("button[type='submit']").first.click()

    expect(phone).to_have_url(f"{live_server.url}/a/alpha/mon-adhesion/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Mon adhésion")
    expect(phone.locator("#member-status")).to_have_text("Adhérent à jour")
    row = phone.locator("#history li").filter(has_text=membership.period_label)
    expect(row).to_contain_text("Réglée")
    screenshot(phone, "member-space-phone")
    assert_fits_the_phone(phone)
    assert_no_axe_violations(phone)

    with phone.expect_download() as download_info:
        row.get_by_role("link", name=re.compile("Attestation")).click()
    pdf = tmp_path / "attestation.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "Claire Dupont" in text
    assert membership.period_label in text and membership.number in text


def test_join_page_on_a_phone(new_context, live_server):
    alpha = AssociationFactory(name="CPTS Alpha", slug="alpha", population=120_000, iban=IBAN)
    set_tariffs(alpha)
    phone = new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{live_server.url}/p/alpha/adherer/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Adhérer à CPTS Alpha")
    # Only the fields of the chosen kind are shown; the honeypot never is.
    expect(phone.locator("#person-fields")).to_be_visible()
    expect(phone.locator("#structure-fields")).to_be_hidden()
    expect(phone.locator("input[name='website']")).to_be_hidden()
    assert_fits_the_phone(phone)
    assert_no_axe_violations(phone)
    phone.get_by_label("Structure", exact=True).check()
    expect(phone.locator("#structure-fields")).to_be_visible()
    expect(phone.locator("#person-fields")).to_be_hidden()
    screenshot(phone, "join-phone")
