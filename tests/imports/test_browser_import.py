"""In a real browser (Chromium, axe-core): a coordinator uploads a CSV, checks the columns and the
preview, confirms, and sees the result; the progress block updates itself through htmx polling."""

from __future__ import annotations

import importlib

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from associations.imports import services as imports
from associations.models import ImportJob, Member, Profession, Role
from tests.browser.conftest import PHONE_VIEWPORT, assert_no_axe_violations, login, screenshot
from tests.factories import PASSWORD, UserFactory, grant, make_member
from tests.imports.helpers import RPPS, csv_bytes, make_college, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = [
    person(last="Lefèvre", first="Hélène", profession="Infirmière", rpps=RPPS[0], college="PS libéraux"),
    person(last="Dupont", first="Claire", rpps=RPPS[1], phone="06 12 34 56 78"),
    person(last="Roux", first="Marc", rpps="10100000009"),
]


@pytest.fixture
def coordinator(association):
    # Transactional tests flush the tables, reference data included: put the professions back.
    for order, (code, label, specialty) in enumerate(
            importlib.import_module("associations.migrations.0003_professions").PROFESSIONS):
        Profession.objects.update_or_create(code=code, defaults={"label": label, "has_specialty": specialty,
                                                                 "order": order})
    user = UserFactory(email="coordination@alpha.example.org", first_name="Camille", last_name="Martin")
    grant(user, association, Role.COORDINATOR)
    make_college(association, "PS libéraux")
    make_member(association, last_name="Dupont", first_name="Claire", rpps=RPPS[1])
    return user


def test_upload_mapping_preview_confirm(page, live_server, association, coordinator, tmp_path):
    path = tmp_path / "adhérents.csv"
    path.write_bytes(csv_bytes(ROWS, encoding="cp1252"))
    login(page, live_server, coordinator.email, PASSWORD)
    page.goto(f"{live_server.url}/a/alpha/adherents/import/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports d'adhérents")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Importer un fichier").click()
    page.get_by_label("Fichier des adhérents (CSV ou Excel .xlsx)").set_input_files(str(path))
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Déposer le fichier").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Colonnes du fichier")
    expect(page.get_by_label("Colonne B « NOM DE FAMILLE »")).to_have_value("last_name")
    expect(page.get_by_label("Colonne E « N° RPPS »")).to_have_value("rpps")
    screenshot(page, "import-mapping")
    assert_no_axe_violations(page)
    page.get_by_label("Colonne B « NOM DE FAMILLE »").select_option("")
    page.get_by_role("button", name="Voir l'aperçu").click()
    expect(page.locator("#id_col_0_errors")).to_contain_text("Choisissez la colonne du nom")
    assert_no_axe_violations(page)
    page.get_by_label("Colonne B « NOM DE FAMILLE »").select_option("last_name")
    page.get_by_role("button", name="Voir l'aperçu").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Aperçu de l'import")
    expect(page.locator("[data-count=create]")).to_have_text("2")
    expect(page.locator("[data-count=update]")).to_have_text("1")
    expect(page.get_by_text("1 ligne comporte un avertissement")).to_be_visible()
    screenshot(page, "import-preview")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Confirmer et importer").click()  # the eager task runs after commit

    expect(page.get_by_text("Import terminé")).to_be_visible()
    expect(page.get_by_text("2 adhérent(s) créé(s)")).to_be_visible()
    screenshot(page, "import-done")
    assert_no_axe_violations(page)
    with scope(association=association):
        assert Member.objects.filter(association=association).count() == 3
        assert Member.objects.get(rpps=RPPS[0]).first_name == "Hélène"  # Windows-1252 decoded


def test_progress_updates_itself_through_htmx(new_context, live_server, association, coordinator):
    with scope(association=association):
        job = imports.create_job(association, coordinator, "adherents.csv", csv_bytes(ROWS))
        imports.save_mapping(job, job.mapping)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    phone = new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True).new_page()
    login(phone, live_server, coordinator.email, PASSWORD)
    phone.goto(f"{live_server.url}/a/alpha/adherents/import/{job.pk}/apercu/")
    expect(phone.get_by_text("En file d'attente")).to_be_visible()
    screenshot(phone, "import-queued-phone")
    assert_no_axe_violations(phone)
    with scope(association=association):
        assert imports.run_import(association, job.pk) == "done"  # the worker, meanwhile
    expect(phone.get_by_text("Import terminé")).to_be_visible(timeout=5000)  # next poll, without reloading
    widths = phone.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1]
