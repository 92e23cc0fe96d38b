"""End to end in the browser: the coordinator opens the indicator grid, enters two realised values with
the keyboard only (a value that is not a number first: the French message shows next to the input and
nothing is saved; then valid ones), sees the mission's achievement change without a reload (htmx
out-of-band), attaches an evidence PDF to the value, and the evidence checklist follows. Pages pass axe."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from associations.models import Role
from indicators.models import Evidence, Indicator, IndicatorValue
from tests.aci.conftest import ensure_aci_reference, make_contract
from tests.browser.conftest import assert_no_axe_violations, login, screenshot
from tests.factories import PASSWORD, AssociationFactory, UserFactory, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def settled(page) -> None:
    """Wait until htmx has swapped and processed the new fragment (a person never types within its 20 ms)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def test_enter_values_with_the_keyboard_and_attach_evidence(page, live_server, tmp_path):
    ensure_aci_reference()
    alpha = AssociationFactory(name="CPTS Alpha", slug="alpha", population=120_000)
    coordinator = UserFactory(email="coordination@alpha.example.org", first_name="Camille", last_name="Martin")
    grant(coordinator, alpha, Role.COORDINATOR)
    contract = make_contract(alpha)
    current = next(y for y in contract.years if date.today() in y).number
    with scope(association=alpha):
        mission = contract.missions.get(mission_type__code="acces")
        ald = Indicator.objects.create(association=alpha, mission=mission, label="Patients ALD sans médecin traitant",
                                       unit="count", direction="down", weight=Decimal(1), order=1)
        snp = Indicator.objects.create(association=alpha, mission=mission, label="Créneaux SNP ouverts",
                                       unit="count", direction="up", weight=Decimal(1), order=2)
        IndicatorValue.objects.create(association=alpha, indicator=ald, year=current, baseline=1200, target=800)
        IndicatorValue.objects.create(association=alpha, indicator=snp, year=current, baseline=0, target=40)
    login(page, live_server, coordinator.email, PASSWORD)

    page.goto(f"{live_server.url}/a/alpha/aci/indicateurs/")
    summary = page.locator(f"#mission-{mission.pk}-summary")
    expect(summary).to_contain_text("non calculée")
    expect(summary).to_contain_text("2 valeurs manquantes")
    assert_no_axe_violations(page)
    screenshot(page, "aci-grid-empty")

    # Keyboard only: focus the realised value of the first indicator, Enter opens the input in place.
    cell = page.locator(f"#cell-{ald.pk}-{current}")
    cell.locator("button[data-field=realised]").focus()
    page.keyboard.press("Enter")
    field = cell.locator("input[name=realised]")
    expect(field).to_be_focused()
    settled(page)
    page.keyboard.type("neuf cents")
    page.keyboard.press("Enter")
    expect(cell).to_contain_text("n'est pas un nombre")
    expect(cell.locator("input[name=realised]")).to_be_focused()
    settled(page)
    with scope(association=alpha):
        assert IndicatorValue.objects.get(indicator=ald, year=current).realised is None
    assert_no_axe_violations(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("900")
    page.keyboard.press("Enter")
    expect(cell).to_contain_text("75 %")
    expect(summary).to_contain_text("75 %")  # updated out of band, no reload
    expect(summary).to_contain_text("1 valeur manquante")
    expect(cell.locator("button[data-field=realised]")).to_be_focused()

    # Escape cancels an edit and leaves the value as it was.
    page.keyboard.press("Enter")
    expect(cell.locator("input[name=realised]")).to_be_focused()
    settled(page)
    page.keyboard.press("Escape")
    expect(cell.locator("input[name=realised]")).to_have_count(0)
    expect(cell.locator("button[data-field=realised]")).to_have_text("900")

    # The second indicator: 20 of 40 slots opened = 50 %; the mission is complete: (75 + 50) / 2.
    second = page.locator(f"#cell-{snp.pk}-{current}")
    second.locator("button[data-field=realised]").focus()
    page.keyboard.press("Enter")
    expect(second.locator("input[name=realised]")).to_be_focused()
    settled(page)
    page.keyboard.type("20")
    page.keyboard.press("Enter")
    expect(second).to_contain_text("50 %")
    expect(summary).to_contain_text("62,5 %")
    expect(summary).not_to_contain_text("manquante")
    with scope(association=alpha):
        assert IndicatorValue.objects.get(indicator=snp, year=current).realised == 20
    assert_no_axe_violations(page)
    screenshot(page, "aci-grid-filled")

    # Attach an evidence PDF from the cell's value page.
    cell.locator("a.aci-evidence-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Patients ALD sans médecin traitant")
    pdf = tmp_path / "donnees-cpam.pdf"
    pdf.write_bytes(PDF)
    form = page.locator("#evidence-form")
    form.locator("[name=kind]").select_option("cpam_data")
    form.locator("[name=title]").fill("Données CPAM du trimestre")
    form.locator("[name=file]").set_input_files(str(pdf))
    form.locator("button[type=submit]").click()
    expect(page.locator("#evidence-list")).to_contain_text("Données CPAM du trimestre")
    with scope(association=alpha):
        assert Evidence.objects.get().value.indicator == ald
    assert_no_axe_violations(page)

    page.goto(f"{live_server.url}/a/alpha/aci/indicateurs/livrables/")
    expect(page.locator("main")).to_contain_text("1 valeur réalisée sans livrable")
    expect(page.locator("main")).to_contain_text("Créneaux SNP ouverts")
    assert_no_axe_violations(page)
    page.goto(f"{live_server.url}/a/alpha/aci/indicateurs/")
    expect(page.locator(f"#cell-{ald.pk}-{current} a.aci-evidence-link")).to_contain_text("1")
