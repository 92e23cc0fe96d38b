"""Creating and editing a member: validation in French next to the fields, nothing written on error,
unique RPPS, RPPS Luhn and duplicate e-mail warnings, choices restricted to the association."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_scopes import scope

from associations.membership.forms import MemberForm
from associations.models import AuditLog, College, Member, MemberKind, Profession
from tests.factories import make_member

VALID_RPPS = "10003456786"
LUHN_KO_RPPS = "10003456789"
VALID_SIRET = "73282932000074"


def create_url(association) -> str:
    return reverse("member_create", kwargs={"association_slug": association.slug})


def edit_url(association, member) -> str:
    return reverse("member_edit", kwargs={"association_slug": association.slug, "pk": member.pk})


def person(**overrides) -> dict:
    data = {"kind": "person", "civility": "dr", "first_name": "Lucie", "last_name": "Bernard",
            "profession": Profession.objects.get(code="medecin-generaliste").pk, "practice_mode": "liberal",
            "rpps": VALID_RPPS, "email": "lucie@exemple.fr", "postal_code": "37000", "city": "Tours",
            "insee_code": "37261"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def structure(**overrides) -> dict:
    data = {"kind": "structure", "structure_name": "MSP des Bords de Loire", "structure_type": "msp",
            "finess": "370000000", "siret": VALID_SIRET, "contact_person": "Anne Roux", "email": "msp@exemple.fr"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(response, name: str) -> str:
    """The error block rendered next to the field (id ``id_<name>_errors``)."""
    match = re.search(rf'id="id_{name}_errors">(.*?)</div></div>', response.content.decode(), re.S)
    return match.group(1) if match else ""


def member_count(association) -> int:
    with scope(association=association):
        return Member.objects.filter(association=association).count()


def test_create_person(coordinator_client, association, coordinator):
    response = coordinator_client.post(create_url(association), person())
    with scope(association=association):
        member = Member.objects.get(association=association, last_name="Bernard")
        audit = AuditLog.objects.get(action="member.create", target_id=str(member.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("member_detail", args=[association.slug, member.pk])
    assert (member.first_name, member.rpps, member.civility, member.city) == ("Lucie", VALID_RPPS, "dr", "Tours")
    assert audit.actor == coordinator
    page = coordinator_client.get(response["Location"])
    assert "Lucie BERNARD a été ajouté·e aux adhérents." in page.content.decode()
    assert 'id="rpps-warning"' not in page.content.decode()


def test_create_structure_ignores_the_person_block(coordinator_client, association):
    # A half-typed person block (invalid RPPS) does not block a structure, and is not saved.
    response = coordinator_client.post(create_url(association), structure(rpps="12", first_name="Oubli"))
    assert response.status_code == 302
    with scope(association=association):
        msp = Member.objects.get(association=association, structure_name="MSP des Bords de Loire")
    assert (msp.kind, msp.rpps, msp.first_name, msp.siret) == (MemberKind.STRUCTURE, "", "", VALID_SIRET)


def test_identifiers_typed_with_spaces_are_accepted(coordinator_client, association):
    response = coordinator_client.post(create_url(association), person(rpps="100 034 567 86", postal_code="37 000"))
    assert response.status_code == 302
    with scope(association=association):
        assert Member.objects.get(association=association, last_name="Bernard").rpps == VALID_RPPS


@pytest.mark.parametrize(("kind", "overrides", "field", "message"), [
    ("person", {"last_name": ""}, "last_name", "Ce champ est obligatoire pour un professionnel de santé."),
    ("person", {"first_name": ""}, "first_name", "Ce champ est obligatoire pour un professionnel de santé."),
    ("person", {"profession": ""}, "profession", "Ce champ est obligatoire pour un professionnel de santé."),
    ("structure", {"structure_name": ""}, "structure_name", "Ce champ est obligatoire pour une structure."),
    ("structure", {"structure_type": ""}, "structure_type", "Ce champ est obligatoire pour une structure."),
    ("person", {"rpps": "1234567890"}, "rpps", "Le numéro RPPS comporte exactement 11 chiffres."),
    ("person", {"adeli": "12345678"}, "adeli", "Le numéro ADELI comporte exactement 9 chiffres."),
    ("structure", {"siret": "73282932000075"}, "siret", "Ce SIRET n&#x27;est pas valide (clé de contrôle"),
    ("structure", {"siret": "7328293200"}, "siret", "Le SIRET doit comporter exactement 14 chiffres."),
    ("structure", {"finess": "3700000"}, "finess", "Le numéro FINESS comporte 9 caractères"),
    ("person", {"postal_code": "3700"}, "postal_code", "Le code postal comporte 5 chiffres."),
    ("person", {"insee_code": "ABCDE"}, "insee_code", "Le code INSEE comporte 5 caractères"),
    ("person", {"email": "pas-une-adresse"}, "email", "Saisissez une adresse de courriel valide."),
    ("person", {"specialty": "Cardiologie"}, "specialty", "n&#x27;a pas de spécialité"),
])
def test_create_errors_are_shown_next_to_the_field_and_nothing_is_written(coordinator_client, association, kind,
                                                                          overrides, field, message):
    data = person(**overrides) if kind == "person" else structure(**overrides)
    response = coordinator_client.post(create_url(association), data)
    assert response.status_code == 400
    assert message in field_errors(response, field)
    assert "La fiche n'a pas été enregistrée" in response.content.decode()
    assert member_count(association) == 0
    with scope(association=association):
        assert not AuditLog.objects.filter(action="member.create").exists()


def test_specialty_is_kept_for_a_specialist(coordinator_client, association):
    specialist = Profession.objects.get(code="medecin-specialiste")
    response = coordinator_client.post(create_url(association), person(profession=specialist.pk,
                                                                       specialty="Cardiologie"))
    assert response.status_code == 302
    with scope(association=association):
        assert Member.objects.get(association=association).specialty == "Cardiologie"


def test_inactive_professions_are_not_offered(coordinator_client, association):
    Profession.objects.filter(code="psychologue").update(active=False)
    psychologue = Profession.objects.get(code="psychologue")
    page = coordinator_client.get(create_url(association)).content.decode()
    assert f'<option value="{psychologue.pk}">' not in page
    response = coordinator_client.post(create_url(association), person(profession=psychologue.pk))
    assert response.status_code == 400 and "Sélectionnez un choix valide" in field_errors(response, "profession")


def test_unique_rpps_is_an_error_next_to_the_field(coordinator_client, association, other_association):
    make_member(association, first_name="Déjà", last_name="Là", rpps=VALID_RPPS)
    # The same RPPS in another association does not count.
    make_member(other_association, first_name="Ailleurs", last_name="Là", rpps="10000000008")
    response = coordinator_client.post(create_url(association), person())
    assert response.status_code == 400
    assert "Ce numéro RPPS est déjà celui d&#x27;un autre adhérent de l&#x27;association." in field_errors(
        response, "rpps")
    assert member_count(association) == 1
    ok = coordinator_client.post(create_url(association), person(rpps="10000000008"))
    assert ok.status_code == 302


def test_unique_rpps_caught_by_the_service_goes_to_the_field(coordinator_client, association, monkeypatch):
    """When the form's own check is passed (e.g. a concurrent save), the model's constraint raised by the
    service's ``full_clean`` still lands next to the RPPS field and nothing is written."""
    make_member(association, first_name="Déjà", last_name="Là", rpps=VALID_RPPS)
    monkeypatch.setattr(MemberForm, "clean_rpps", lambda form: form.cleaned_data["rpps"])
    response = coordinator_client.post(create_url(association), person())
    assert response.status_code == 400
    assert "Ce numéro RPPS est déjà celui" in field_errors(response, "rpps")
    assert member_count(association) == 1


def test_rpps_luhn_failure_is_a_warning_after_save(coordinator_client, association):
    response = coordinator_client.post(create_url(association), person(rpps=LUHN_KO_RPPS), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="rpps-warning"' in html and "La clé de contrôle de ce RPPS ne correspond pas" in html
    with scope(association=association):
        assert Member.objects.get(association=association).rpps == LUHN_KO_RPPS


def test_probable_duplicate_email_is_a_warning_after_save(coordinator_client, association):
    first = make_member(association, first_name="Lucie", last_name="Homonyme", email="lucie@exemple.fr")
    response = coordinator_client.post(create_url(association), person(email="LUCIE@exemple.fr"), follow=True)
    html = response.content.decode()
    assert 'id="duplicates-warning"' in html
    assert reverse("member_detail", args=[association.slug, first.pk]) in html
    assert member_count(association) == 2


def test_choices_of_another_association_are_refused(coordinator_client, association, other_association):
    with scope(association=other_association):
        foreign_college = College.objects.create(association=other_association, name="Collège B")
    foreign_structure = make_member(other_association, kind="structure", structure_name="MSP B",
                                    structure_type="msp")
    response = coordinator_client.post(create_url(association), person(college=foreign_college.pk,
                                                                       practice_structure=foreign_structure.pk))
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in field_errors(response, "college")
    assert "Sélectionnez un choix valide" in field_errors(response, "practice_structure")
    assert "Collège B" not in response.content.decode() and "MSP B" not in response.content.decode()
    assert member_count(association) == 0


def test_practice_structure_must_be_a_structure(coordinator_client, association):
    colleague = make_member(association, first_name="Paul", last_name="Collègue")
    with scope(association=association):
        college = College.objects.create(association=association, name="PS libéraux")
    msp = make_member(association, kind="structure", structure_name="MSP A", structure_type="msp")
    refused = coordinator_client.post(create_url(association), person(practice_structure=colleague.pk))
    assert refused.status_code == 400 and "Sélectionnez un choix valide" in field_errors(refused,
                                                                                         "practice_structure")
    ok = coordinator_client.post(create_url(association), person(practice_structure=msp.pk, college=college.pk))
    assert ok.status_code == 302
    with scope(association=association):
        created = Member.objects.get(association=association, last_name="Bernard")
    assert (created.practice_structure, created.college) == (msp, college)


def test_edit_saves_through_the_service_with_an_audit_diff(coordinator_client, association, coordinator):
    member = make_member(association, first_name="Lucie", last_name="Bernard", email="old@exemple.fr",
                         rpps=VALID_RPPS)
    form_page = coordinator_client.get(edit_url(association, member))
    assert form_page.status_code == 200 and 'value="old@exemple.fr"' in form_page.content.decode()
    response = coordinator_client.post(edit_url(association, member), person(email="new@exemple.fr", city="Blois"))
    assert response.status_code == 302
    with scope(association=association):
        member.refresh_from_db()
        audit = AuditLog.objects.get(action="member.update", target_id=str(member.pk))
    assert (member.email, member.city, member.rpps) == ("new@exemple.fr", "Blois", VALID_RPPS)
    assert audit.changes["email"] == ["old@exemple.fr", "new@exemple.fr"] and audit.actor == coordinator


def test_edit_errors_write_nothing(coordinator_client, association):
    other = make_member(association, first_name="Autre", last_name="Personne", rpps="10000000008")
    member = make_member(association, first_name="Lucie", last_name="Bernard", rpps=VALID_RPPS)
    response = coordinator_client.post(edit_url(association, member), person(rpps=other.rpps, city="Blois"))
    assert response.status_code == 400
    assert "Ce numéro RPPS est déjà celui" in field_errors(response, "rpps")
    with scope(association=association):
        member.refresh_from_db()
        assert (member.rpps, member.city) == (VALID_RPPS, "")
        assert not AuditLog.objects.filter(action="member.update").exists()


def test_other_associations_member_cannot_be_edited(coordinator_client, association, other_association):
    foreign = make_member(other_association, first_name="Ailleurs", last_name="Bernard")
    assert coordinator_client.get(edit_url(association, foreign)).status_code == 404
    assert coordinator_client.post(edit_url(association, foreign), person()).status_code == 404
    with scope(association=other_association):
        foreign.refresh_from_db()
        assert foreign.first_name == "Ailleurs"
    assert coordinator_client.get(reverse("member_detail", args=[association.slug, foreign.pk])).status_code == 404
