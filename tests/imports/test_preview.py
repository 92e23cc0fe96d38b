"""Preview step: every row classified (create / update / unchanged / error) with its spreadsheet line
number and a French reason; existing members matched by RPPS, e-mail, then name + first name + postal
code; nothing written to members before confirmation."""

from __future__ import annotations

from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.imports import services
from associations.membership.import_schema import MEMBERS
from associations.models import Member
from tests.factories import make_member
from tests.imports.helpers import RPPS, csv_bytes, make_college, members, person, preview_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def college(association):
    return make_college(association, "PS libéraux")


@pytest.fixture
def existing(association, college):
    from associations.models import Profession

    mg = Profession.objects.get(code="medecin-generaliste")
    common = {"civility": "dr", "profession": mg, "postal_code": "37000", "city": "Tours"}
    return {
        "by_rpps": make_member(association, last_name="Dupont", first_name="Claire", rpps=RPPS[0],
                               email="claire@example.org", **common),
        "by_email": make_member(association, last_name="Martin", first_name="Paul",
                                email="Paul.Martin@Example.org", **common),
        "by_name": make_member(association, last_name="Bernard", first_name="Luc", **common),
    }


ROWS = [
    person(last="Lefèvre", first="Hélène", profession="IDE", email="helene@example.org", college="ps liberaux",
           joined="05/03/2021", civility="Mme"),                                               # 2 create
    person(last="Dupont", first="Claire", rpps=RPPS[0], email="claire@example.org",
           phone="06 12 34 56 78"),                                                            # 3 update
    person(last="Petit", first="Anne", rpps=RPPS[2]),                                          # 4 create
    person(last="Martin", first="Paul", email="paul.martin@example.org"),                      # 5 unchanged
    person(last="Roux", first="Marc", rpps="10100000009"),                                     # 6 create + warning
    person(last="Morel", first="Julie", rpps="123"),                                           # 7 error
    person(last="Fournier", first="Léa", profession="Plombier"),                               # 8 error
    person(last="Girard", first="Tom", joined="31/02/2024"),                                   # 9 error
    person(last="Petit", first="Anne", rpps=RPPS[2]),                                          # 10 error (dup)
    person(last="Bonnet", first="Éric", college="Usagers"),                                    # 11 error
    person(last="Bernard", first="Luc"),                                                       # 12 unchanged
    person(last="", first="Sans-Nom"),                                                         # 13 error
    person(last="Lambert", first="Zoé", email="pas-un-email"),                                 # 14 error
]


def by_line(job) -> dict[int, dict]:
    return {row["line"]: row for row in job.summary["rows"]}


def test_every_row_is_classified_with_its_line_and_reason(coordinator_client, association, existing):
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    rows = by_line(job)
    assert {line: row["action"] for line, row in rows.items()} == {
        2: "create", 3: "update", 4: "create", 5: "unchanged", 6: "create", 7: "error", 8: "error", 9: "error",
        10: "error", 11: "error", 12: "unchanged", 13: "error", 14: "error",
    }
    assert job.summary["counts"] == {"create": 3, "update": 1, "unchanged": 2, "error": 7}
    assert job.total_rows == 13
    assert rows[3]["changes"] == ["Téléphone : (vide) → « 06 12 34 56 78 »"]
    assert rows[6]["warnings"] == ["RPPS « 10100000009 » : la clé de contrôle ne correspond pas (vérifiez la saisie)"]
    assert rows[7]["errors"] == ["RPPS « 123 » invalide (11 chiffres attendus)"]
    assert rows[8]["errors"] == ["profession « Plombier » inconnue"]
    assert rows[9]["errors"] == ["date « 31/02/2024 » invalide (jj/mm/aaaa attendu)"]
    assert rows[10]["errors"] == ["doublon de la ligne 4 dans le fichier"]
    assert rows[11]["errors"] == ["collège « Usagers » inconnu (collèges de l'association : « PS libéraux »)"]
    assert rows[13]["errors"] == ["nom manquant"]
    assert rows[14]["errors"] == ["e-mail « pas-un-email » invalide"]
    assert job.summary["warnings"] == 1


def test_preview_page_shows_counts_errors_first_and_no_confirm_button(coordinator_client, association, existing):
    before = [(m.pk, m.phone, m.updated_at) for m in members(association)]
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    response = coordinator_client.get(reverse("import_preview", args=[association.slug, job.pk]))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert '<div class="fs-3 fw-semibold" data-count="error">7</div>' in html
    assert '<div class="fs-3 fw-semibold" data-count="create">3</div>' in html
    assert '<div class="fs-3 fw-semibold" data-count="update">1</div>' in html
    assert '<div class="fs-3 fw-semibold" data-count="unchanged">2</div>' in html
    assert "Ligne 7 : RPPS « 123 » invalide (11 chiffres attendus)" in html
    assert "Ligne 10 : doublon de la ligne 4 dans le fichier" in html
    assert html.index("Lignes en erreur (7)") < html.index("Adhérents à créer (3)")
    assert "7 lignes sont en erreur" in html
    assert reverse("import_confirm", args=[association.slug, job.pk]) not in html
    assert "1 ligne comporte un avertissement" in html
    # Nothing written to members before confirmation.
    assert [(m.pk, m.phone, m.updated_at) for m in members(association)] == before


def test_confirm_is_refused_while_rows_are_in_error(coordinator_client, association, existing):
    job = preview_job(coordinator_client, association, csv_bytes(ROWS))
    response = coordinator_client.post(reverse("import_confirm", args=[association.slug, job.pk]), follow=True)
    assert "Le fichier contient 7 ligne(s) en erreur" in unescape(response.content.decode())
    job.refresh_from_db()
    assert job.status == "previewed"
    assert len(members(association)) == 3


def test_matching_rpps_then_email_then_name(coordinator_client, association, existing):
    rows = [
        # Same RPPS, other names and e-mail: still the same member (RPPS first).
        person(last="Dupont-Durand", first="Claire", rpps=RPPS[0], email="autre@example.org"),
        # E-mail in other case, names agree: the same member.
        person(last="MARTIN", first="Paul", email="PAUL.MARTIN@EXAMPLE.ORG", cp="37100"),
        # Same name and first name with accents/case differences and the same postal code.
        person(last="bernard", first="LUC", phone="02 47 00 00 00"),
        # Same name, other postal code: someone else.
        person(last="Bernard", first="Luc", cp="41000", city="Blois"),
    ]
    job = preview_job(coordinator_client, association, csv_bytes(rows))
    lines = by_line(job)
    assert [lines[n]["action"] for n in (2, 3, 4, 5)] == ["update", "update", "update", "create"]
    assert lines[2]["changes"] == ["Nom : « Dupont » → « Dupont-Durand »",
                                   "E-mail : « claire@example.org » → « autre@example.org »"]
    assert lines[3]["changes"] == ["Nom : « Martin » → « MARTIN »", "Code postal : « 37000 » → « 37100 »"]
    assert lines[4]["changes"] == ["Nom : « Bernard » → « bernard »", "Prénom : « Luc » → « LUC »",
                                   "Téléphone : (vide) → « 02 47 00 00 00 »"]


def test_shared_email_matches_only_when_the_names_agree(coordinator_client, association, existing):
    """Existing: Paul Martin, Paul.Martin@Example.org. A practice address shared by a colleague or a
    relative is not the same person; the same first name with another last name is (married name)."""
    rows = [
        person(last="Durand", first="Sophie", email="paul.martin@example.org"),
        person(last="Martin", first="Sophie", email="paul.martin@example.org"),
        person(last="Martin-Lefort", first="Paul", email="paul.martin@example.org"),
    ]
    lines = by_line(preview_job(coordinator_client, association, csv_bytes(rows)))
    assert [lines[n]["action"] for n in (2, 3, 4)] == ["create", "create", "update"]
    assert lines[4]["changes"] == ["Nom : « Martin » → « Martin-Lefort »"]


def test_two_existing_members_with_the_same_email_and_names_is_ambiguous(coordinator_client, association,
                                                                          existing):
    make_member(association, last_name="Martin", first_name="Paul", email="paul.martin@example.org",
                postal_code="41000")
    row = person(last="Martin", first="Paul", email="paul.martin@example.org", cp="", city="")
    lines = by_line(preview_job(coordinator_client, association, csv_bytes([row])))
    assert lines[2]["errors"] == ["plusieurs adhérents existants ont l'e-mail « paul.martin@example.org » et ce "
                                  "nom : ajoutez le RPPS pour les distinguer"]
    row = person(last="Martin", first="Paul", email="paul.martin@example.org", cp="41000", city="")
    lines = by_line(preview_job(coordinator_client, association, csv_bytes([row])))
    # The postal code tells them apart: the member of 41000 (without a civility yet) is the one updated.
    assert lines[2]["changes"] == ["Civilité : (vide) → « Dr »"]


def test_rows_without_a_name_are_not_duplicates_of_each_other(coordinator_client, association):
    rows = [person(last="", first="A"), person(last="", first="B"), person(last="Petit", rpps=RPPS[2]),
            person(last="Petit", first="Autre", rpps=RPPS[2])]
    lines = by_line(preview_job(coordinator_client, association, csv_bytes(rows)))
    assert lines[2]["errors"] == lines[3]["errors"] == ["nom manquant"]
    assert lines[5]["errors"] == ["doublon de la ligne 4 dans le fichier"]


def test_email_match_with_another_rpps_is_an_error(coordinator_client, association, existing):
    with scope(association=association):
        Member.objects.filter(pk=existing["by_email"].pk).update(rpps=RPPS[3])
    job = preview_job(coordinator_client, association,
                      csv_bytes([person(last="Martin", first="Paul", email="paul.martin@example.org", rpps=RPPS[4])]))
    assert by_line(job)[2]["errors"] == [f"l'adhérent existant « Paul MARTIN » (même e-mail ou même nom) a un autre "
                                         f"RPPS ({RPPS[3]})"]


def test_professions_by_label_code_and_synonyms(coordinator_client, association):
    names = ["Infirmière", "IDE", "infirmier", "Kiné", "masseur-kinesitherapeute", "PHARMACIENNE", "Sage femme",
             "Médecin", "Dentiste", "Psychologue"]
    rows = [person(last=f"Nom{i}", first="X", profession=name) for i, name in enumerate(names)]
    job = preview_job(coordinator_client, association, csv_bytes(rows))
    assert job.summary["counts"]["create"] == len(names), job.summary["rows"]
    table = services.load_table(job)
    with scope(association=association):
        results = MEMBERS.classify(association, table, job.mapping)
    assert [r.instance.profession.code for r in results] == [
        "infirmier", "infirmier", "infirmier", "masseur-kinesitherapeute", "masseur-kinesitherapeute", "pharmacien",
        "sage-femme", "medecin-generaliste", "chirurgien-dentiste", "psychologue"]


def test_structures_with_type_finess_and_siret(coordinator_client, association):
    header = ["Type", "Raison sociale", "FINESS", "SIRET", "Type de structure", "Email", "Code postal", "Ville"]
    rows = [
        ["Structure", "MSP des Tilleuls", "370012345", "73282932000074", "MSP", "msp@example.org", "37000", "Tours"],
        ["personne morale", "EHPAD Les Roses", "2A0012345", "", "Ehpad", "", "20000", "Ajaccio"],
        ["Structure", "Centre X", "12345", "73282932000075", "Centre de santé", "", "37000", "Tours"],
        ["Structure", "", "", "", "", "", "", ""],
        ["Association", "Y", "", "", "", "", "", ""],
    ]
    job = preview_job(coordinator_client, association, csv_bytes(rows, header=header))
    lines = by_line(job)
    assert lines[2]["action"] == lines[3]["action"] == "create"
    assert lines[4]["errors"] == [
        "FINESS « 12345 » invalide (9 caractères : le département puis 7 chiffres)",
        "SIRET « 73282932000075 » invalide (clé de contrôle incorrecte)",
    ]
    assert lines[5]["errors"] == ["raison sociale manquante (obligatoire pour une structure)"]
    assert lines[6]["errors"] == ["type « Association » inconnu (« Personne » ou « Structure » attendu)"]


def test_structure_matched_by_finess(coordinator_client, association):
    make_member(association, kind="structure", structure_name="MSP des Tilleuls", finess="370012345",
                first_name="", last_name="")
    header = ["Raison sociale", "FINESS", "Ville"]
    job = preview_job(coordinator_client, association, csv_bytes([["MSP Les Tilleuls", "370012345", "Tours"]],
                                                                 header=header))
    assert by_line(job)[2]["changes"] == ["Raison sociale (structure) : « MSP des Tilleuls » → « MSP Les Tilleuls »",
                                          "Commune : (vide) → « Tours »"]


def test_four_digit_postal_code_gets_its_zero_back_with_a_warning(coordinator_client, association):
    job = preview_job(coordinator_client, association, csv_bytes([person(cp="1000", city="Bourg-en-Bresse")]))
    row = by_line(job)[2]
    assert row["action"] == "create"
    assert row["warnings"] == ["code postal « 1000 » complété en « 01000 » (zéro initial perdu par le tableur)"]


def test_unknown_college_when_the_association_has_none(coordinator_client, association):
    job = preview_job(coordinator_client, association, csv_bytes([person(college="Libéraux")]))
    assert by_line(job)[2]["errors"] == [
        "collège « Libéraux » inconnu (aucun collège n'est défini pour l'association)"]


def test_too_long_values_are_reported_from_model_validation(coordinator_client, association):
    job = preview_job(coordinator_client, association, csv_bytes([person(last="X" * 150)]))
    errors = by_line(job)[2]["errors"]
    assert len(errors) == 1 and errors[0].startswith("Nom : ") and "100" in errors[0]


def test_large_preview_is_capped_and_renders_with_constant_queries(coordinator_client, association):
    small = preview_job(coordinator_client, association, csv_bytes([person(last="Seul")]))
    rows = [person(last=f"Nom{i:04d}", first="Anne", cp="37000") for i in range(700)]
    big = preview_job(coordinator_client, association, csv_bytes(rows))
    assert big.summary["counts"]["create"] == 700
    assert big.summary["hidden"]["create"] == 200
    counts = []
    for job in (small, big):
        with CaptureQueriesContext(connection) as queries:
            response = coordinator_client.get(reverse("import_preview", args=[association.slug, job.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
    # session, user, association, role, the job with its author: the same whatever the number of rows.
    assert counts[0] == counts[1]
    html = unescape(response.content.decode())
    assert html.count("<tr>") == 500 + 1
    assert "… et 200 autres lignes non affichées." in html


def test_classifying_uses_a_fixed_number_of_queries(coordinator_client, association, college):
    """Saving the mapping reads professions, collèges and the association's members once each, whatever
    the number of rows and of existing members (no query per row, not even for their profession)."""
    from tests.imports.helpers import last_job, upload

    def mapping_post_queries(rows) -> int:
        upload(coordinator_client, association, csv_bytes(rows))
        job = last_job(association)
        form = {f"col_{k}": v for k, v in job.mapping.items()}
        with CaptureQueriesContext(connection) as queries:
            response = coordinator_client.post(reverse("import_mapping", args=[association.slug, job.pk]), form)
        assert response.status_code == 302
        return len(queries)

    few = mapping_post_queries([person(last="Seul", college="PS libéraux")])
    for i in range(30):
        make_member(association, last_name=f"Existant{i}", first_name="A", postal_code="37000", college=college)
    rows = [person(last=f"Existant{i}", first="A", college="PS libéraux", phone="01") for i in range(30)]
    rows += [person(last=f"Nouveau{i}", first="B", college="PS libéraux") for i in range(30)]
    many = mapping_post_queries(rows)
    assert few == many
