"""Mapping step: columns guessed from French headers, one <select> per column, errors next to the select."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse
from django_scopes import scope

from associations.membership.import_schema import MEMBERS
from associations.models import ImportJob
from tests.factories import make_member
from tests.imports.helpers import csv_bytes, last_job, members, person, upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header,field", [
    ("Nom", "last_name"), ("NOM DE FAMILLE", "last_name"), ("  nom  d'usage ", "last_name"),
    ("Prénom", "first_name"), ("PRENOM", "first_name"), ("Profession", "profession"), ("Métier", "profession"),
    ("Spécialité", "specialty"), ("RPPS", "rpps"), ("N° RPPS", "rpps"), ("Numéro ADELI", "adeli"),
    ("Email", "email"), ("E-mail", "email"), ("Courriel", "email"), ("Mail", "email"), ("Adresse mail", "email"),
    ("Téléphone", "phone"), ("Tel", "phone"), ("Tél.", "phone"), ("Adresse", "address"), ("CP", "postal_code"),
    ("Code postal", "postal_code"), ("Ville", "city"), ("Commune", "city"), ("Code INSEE", "insee_code"),
    ("Collège", "college"), ("Type", "kind"), ("Raison sociale", "structure_name"), ("Structure", "structure_name"),
    ("Nom de la structure", "structure_name"), ("Type de structure", "structure_type"), ("FINESS", "finess"),
    ("N° SIRET", "siret"), ("Date d'adhésion", "joined_on"), ("Mode d'exercice", "practice_mode"),
    ("Civilité", "civility"), ("Commentaire", "notes"), ("Nom Prénom", None), ("Couleur préférée", None),
])
def test_header_synonyms(header, field):
    assert MEMBERS.guess_field(header) == field


def selected(html: str, name: str) -> str:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    option = re.search(r'<option value="([^"]*)" selected>', select)
    return option.group(1) if option else ""


def test_mapping_page_shows_one_select_per_column_with_the_guess(coordinator_client, association):
    upload(coordinator_client, association, csv_bytes([person(email="c@example.org")]))
    job = last_job(association)
    response = coordinator_client.get(reverse("import_mapping", args=[association.slug, job.pk]))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert html.count("<select") == 11
    assert '<label class="form-label fw-semibold" for="id_col_1">Colonne B « NOM DE FAMILLE »</label>' in html
    assert selected(html, "col_1") == "last_name"
    assert selected(html, "col_4") == "rpps"
    assert selected(html, "col_5") == "email"
    assert "— Ignorer cette colonne —" in html
    assert 'id="id_col_5_helptext">Exemples : « c@example.org »' in html
    assert 'aria-describedby="id_col_5_helptext"' in html


def test_name_or_structure_name_is_required(coordinator_client, association):
    upload(coordinator_client, association, csv_bytes([person()]))
    job = last_job(association)
    form = {f"col_{k}": v for k, v in job.mapping.items()} | {"col_1": ""}
    response = coordinator_client.post(reverse("import_mapping", args=[association.slug, job.pk]), form)
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert re.search(r'<div class="invalid-feedback d-block" id="id_col_0_errors"><div>Choisissez la colonne du nom '
                     r"\(professionnels\) ou de la raison sociale \(structures\)", html)
    assert 'aria-invalid="true"' in html
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED


def test_a_field_chosen_twice_is_refused(coordinator_client, association):
    upload(coordinator_client, association, csv_bytes([person()]))
    job = last_job(association)
    form = {f"col_{k}": v for k, v in job.mapping.items()} | {"col_2": "last_name"}
    response = coordinator_client.post(reverse("import_mapping", args=[association.slug, job.pk]), form)
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert 'id="id_col_2_errors"><div>« Nom » est déjà choisi pour la colonne « NOM DE FAMILLE »' in html


def test_unknown_field_value_is_refused(coordinator_client, association):
    upload(coordinator_client, association, csv_bytes([person()]))
    job = last_job(association)
    form = {f"col_{k}": v for k, v in job.mapping.items()} | {"col_3": "is_superuser"}
    response = coordinator_client.post(reverse("import_mapping", args=[association.slug, job.pk]), form)
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in unescape(response.content.decode())


def test_saving_computes_the_preview_and_writes_no_member(coordinator_client, association):
    make_member(association, last_name="Existant", first_name="Paul")
    upload(coordinator_client, association, csv_bytes([person(), person(last="Martin")]))
    job = last_job(association)
    form = {f"col_{k}": v for k, v in job.mapping.items()} | {"col_6": ""}  # ignore the phone column
    response = coordinator_client.post(reverse("import_mapping", args=[association.slug, job.pk]), form)
    assert response.status_code == 302
    assert response["Location"] == reverse("import_preview", args=[association.slug, job.pk])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert job.mapping["6"] == "" and job.mapping["1"] == "last_name"
    assert job.summary["counts"] == {"create": 2, "update": 0, "unchanged": 0, "error": 0}
    assert [m.last_name for m in members(association)] == ["Existant"]


def test_mapping_can_be_changed_after_the_preview_but_not_once_queued(coordinator_client, association):
    upload(coordinator_client, association, csv_bytes([person()]))
    job = last_job(association)
    url = reverse("import_mapping", args=[association.slug, job.pk])
    form = {f"col_{k}": v for k, v in job.mapping.items()}
    assert coordinator_client.post(url, form).status_code == 302
    assert coordinator_client.get(url).status_code == 200
    with scope(association=association):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    response = coordinator_client.post(url, form | {"col_6": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("import_preview", args=[association.slug, job.pk])
    job.refresh_from_db()
    assert job.mapping["6"] == "phone"


def test_another_associations_job_is_a_404(coordinator_client, association, other_association, users):
    from django.test import Client

    other = Client()
    other.force_login(users["outsider"])
    upload(other, other_association, csv_bytes([person()]))
    job = last_job(other_association)
    for name in ("import_mapping", "import_preview", "import_status"):
        assert coordinator_client.get(reverse(name, args=[association.slug, job.pk])).status_code == 404
    assert coordinator_client.post(reverse("import_confirm", args=[association.slug, job.pk])).status_code == 404
    assert coordinator_client.post(reverse("import_mapping", args=[association.slug, job.pk]),
                                   {"col_1": "last_name"}).status_code == 404


def test_a_job_confirmed_meanwhile_keeps_its_mapping(coordinator_client, association):
    """Two tabs: the import is confirmed in one while the other still shows the mapping form."""
    from associations.imports import services as imports
    from associations.services import ServiceError

    upload(coordinator_client, association, csv_bytes([person()]))
    stale = last_job(association)
    with scope(association=association):
        ImportJob.objects.filter(pk=stale.pk).update(status=ImportJob.Status.QUEUED)
        with pytest.raises(ServiceError, match="déjà été lancé"):
            imports.save_mapping(stale, {**stale.mapping, "6": ""})
    job = last_job(association)
    assert job.status == ImportJob.Status.QUEUED
    assert job.mapping["6"] == "phone"
