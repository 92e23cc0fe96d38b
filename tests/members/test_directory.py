"""The member directory list: columns, filters, search, anonymised members, export, query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from associations.membership import services
from associations.models import College, MembershipStatus, Profession, Role
from tests.factories import make_member, set_tariffs

VALID_RPPS = "10003456786"   # passes the Luhn check
LUHN_KO_RPPS = "10003456789"  # 11 digits, wrong check digit (a warning, not an error)


THIS_YEAR = date.today().year  # civil-year periods: the current period is labelled with this year
LAST_YEAR = THIS_YEAR - 1


def list_url(association, **params) -> str:
    url = reverse("member_list", kwargs={"association_slug": association.slug})
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


def listed_ids(response) -> list[int]:
    """Member ids linked from the table rows, in display order."""
    return [int(pk) for pk in re.findall(r'<td ><a href="/a/[-\w]+/adherents/(\d+)/"', response.content.decode())]


@pytest.fixture
def people(association, other_association, coordinator):
    """A small directory: two persons, a structure, a membership history; a member of another CPTS."""
    set_tariffs(association)
    specialist = Profession.objects.get(code="medecin-specialiste")
    nurse = Profession.objects.get(code="infirmier")
    with scope(association=association):
        college = College.objects.create(association=association, name="PS libéraux")
        users_college = College.objects.create(association=association, name="Usagers")
    claire = make_member(association, first_name="Claire", last_name="Martin", email="claire@exemple.fr",
                         city="Tours", rpps=LUHN_KO_RPPS, profession=specialist, specialty="Cardiologie",
                         college=college)
    bruno = make_member(association, first_name="Bruno", last_name="Petit", email="bruno@exemple.fr",
                        city="Amboise", rpps=VALID_RPPS, profession=nurse)
    msp = make_member(association, kind="structure", first_name="", last_name="", structure_name="MSP du Lac",
                      structure_type="msp", city="Tours", email="msp@exemple.fr", college=users_college)
    with scope(association=association):
        services.open_membership(claire, coordinator, services.previous_period(association))
        current = services.open_membership(claire, coordinator, services.current_period(association))
        services.record_payment(current, coordinator, amount=Decimal("30.00"), method="cheque")
        cancelled = services.open_membership(bruno, coordinator, services.previous_period(association))
        services.set_membership_status(cancelled, coordinator, MembershipStatus.CANCELLED)
    foreign = make_member(other_association, first_name="Claire", last_name="Ailleurs", email="claire@exemple.fr",
                          city="Tours")
    return {"claire": claire, "bruno": bruno, "msp": msp, "foreign": foreign, "college": college,
            "users_college": users_college, "specialist": specialist, "nurse": nurse}


def test_list_shows_the_directory_columns(coordinator_client, association, people):
    response = coordinator_client.get(list_url(association))
    assert response.status_code == 200
    html = response.content.decode()
    # Sorted by name: MSP du Lac (structure name), Martin, Petit; the other association's member is absent.
    assert listed_ids(response) == [people["claire"].pk, people["msp"].pk, people["bruno"].pk]
    assert "Ailleurs" not in html
    assert "Médecin spécialiste (Cardiologie)" in html
    assert "Maison de santé pluriprofessionnelle (MSP)" in html
    assert "PS libéraux" in html and "Tours" in html
    # Last membership and its status (a subquery annotation), the member status badge.
    assert re.search(rf"{THIS_YEAR} <span class=\"badge [^\"]+\">Réglée</span>", html)
    assert re.search(rf"{LAST_YEAR} <span class=\"badge [^\"]+\">Annulée</span>", html)
    # The RPPS that fails the Luhn check carries a warning icon with a text alternative; the good one does not.
    warning_icon = r' <i class="bi bi-exclamation-triangle-fill[^>]+aria-label="La clé de contrôle'
    assert re.search(LUHN_KO_RPPS + warning_icon, html)
    assert VALID_RPPS + " <i" not in html
    # Every selection box has its own label; table headers have a scope.
    for member in ("claire", "bruno", "msp"):
        pk = people[member].pk
        assert f'id="select-{pk}"' in html and f'<label class="visually-hidden" for="select-{pk}">' in html
    assert '<th class="asc orderable" scope="col">' in html


@pytest.mark.parametrize(("params", "expected"), [
    ({"kind": "structure"}, ["msp"]),
    ({"kind": "person"}, ["claire", "bruno"]),
    ({"city": "Tours"}, ["claire", "msp"]),
    ({"period": str(THIS_YEAR)}, ["claire"]),
    ({"period": str(LAST_YEAR)}, ["claire"]),  # Bruno's membership of last year is cancelled
    ({"period": str(LAST_YEAR - 1)}, []),
    ({"q": "mart"}, ["claire"]),
    ({"q": "CLAIRE martin"}, ["claire"]),
    ({"q": "lac"}, ["msp"]),
    ({"q": "bruno@exemple"}, ["bruno"]),
    ({"q": VALID_RPPS}, ["bruno"]),
    ({"q": VALID_RPPS[:6]}, []),  # the RPPS matches exactly, not a part of it
    ({"q": "exemple.fr", "city": "Tours"}, ["claire", "msp"]),
])
def test_filters_and_search(coordinator_client, association, people, params, expected):
    response = coordinator_client.get(list_url(association, **params))
    assert response.status_code == 200
    assert sorted(listed_ids(response)) == sorted(people[name].pk for name in expected)


def test_filter_by_profession_college_and_status(coordinator_client, association, people):
    by_profession = coordinator_client.get(list_url(association, profession=people["nurse"].pk))
    assert listed_ids(by_profession) == [people["bruno"].pk]
    by_college = coordinator_client.get(list_url(association, college=people["users_college"].pk))
    assert listed_ids(by_college) == [people["msp"].pk]
    with scope(association=association):
        services.set_departure(people["bruno"], None, "resigned")
    resigned = coordinator_client.get(list_url(association, status="resigned"))
    assert listed_ids(resigned) == [people["bruno"].pk]


def test_filter_with_another_associations_college_is_an_error(coordinator_client, association, other_association,
                                                               people):
    with scope(association=other_association):
        foreign_college = College.objects.create(association=other_association, name="Collège d'ailleurs")
    response = coordinator_client.get(list_url(association, college=foreign_college.pk))
    assert response.status_code == 200
    assert listed_ids(response) == []
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert "Collège d&#x27;ailleurs" not in response.content.decode()


def test_invalid_year_is_reported(coordinator_client, association, people):
    response = coordinator_client.get(list_url(association, period="deux mille"))
    assert response.status_code == 200 and listed_ids(response) == []
    assert "Saisissez une année, par exemple 2026." in response.content.decode()


def test_anonymised_members_are_hidden_unless_asked(coordinator_client, association, coordinator, people):
    with scope(association=association):
        services.erase_member(people["bruno"], coordinator)
    default = coordinator_client.get(list_url(association))
    assert people["bruno"].pk not in listed_ids(default)
    asked = coordinator_client.get(list_url(association, status="anonymized"))
    assert listed_ids(asked) == [people["bruno"].pk]
    html = asked.content.decode()
    assert "Adhérent anonymisé" in html and "Bruno" not in html


def test_sorting_and_pagination(coordinator_client, association, people):
    descending = coordinator_client.get(list_url(association, sort="-name"))
    assert listed_ids(descending) == [people["bruno"].pk, people["msp"].pk, people["claire"].pk]
    by_city = coordinator_client.get(list_url(association, sort="city"))
    assert listed_ids(by_city)[0] == people["bruno"].pk  # Amboise first
    by_last = coordinator_client.get(list_url(association, sort="-last_membership"))
    assert listed_ids(by_last)[0] == people["claire"].pk  # this year's membership
    for i in range(50):
        make_member(association, first_name="Zoé", last_name=f"Zz{i:02d}")
    first = coordinator_client.get(list_url(association))
    second = coordinator_client.get(list_url(association, page=2))
    assert len(listed_ids(first)) == 50 and len(listed_ids(second)) == 3
    assert set(listed_ids(first)).isdisjoint(listed_ids(second))


def test_viewer_sees_the_list_without_bulk_actions(client, association, users, people):
    client.force_login(users[Role.VIEWER])
    response = client.get(list_url(association))
    html = response.content.decode()
    assert response.status_code == 200 and len(listed_ids(response)) == 3
    assert 'id="bulk-form"' not in html and 'name="ids"' not in html
    assert reverse("member_create", args=[association.slug]) not in html


def test_csv_export_of_the_filtered_set(coordinator_client, association, people):
    response = coordinator_client.get(list_url(association, city="Tours", _export="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"adherents-{association.slug}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, body = rows[0], rows[1:]
    assert header[:9] == ["Nom", "Profession / type", "Collège", "Commune", "Statut", "E-mail", "Dernière adhésion",
                          "RPPS", "Nom de famille"]
    assert "Sélection" not in header
    assert [row[0] for row in body] == ["Claire MARTIN", "MSP du Lac"]
    claire = dict(zip(header, body[0], strict=True))
    assert claire["RPPS"] == LUHN_KO_RPPS  # plain value, no HTML
    assert claire["Dernière adhésion"] == str(THIS_YEAR) and claire["Statut de la dernière adhésion"] == "Réglée"
    assert claire["Profession / type"] == "Médecin spécialiste (Cardiologie)"
    assert claire["Statut"] == "Adhérent à jour"


def test_xlsx_export(coordinator_client, association, people):
    response = coordinator_client.get(list_url(association, kind="structure", _export="xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["Nom", "Profession / type", "Collège", "Commune"]
    assert [row[0] for row in rows[1:]] == ["MSP du Lac"]


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("params", [
    {},
    {"kind": "person", "period": str(LAST_YEAR), "sort": "-last_membership"},
    {"q": "dupont"},
])
def test_list_queries_do_not_grow_with_members(coordinator_client, association, coordinator, django_assert_num_queries,
                                               params):
    """Session, user, association, role (middleware); the association switcher (context processor);
    the filter choices (professions, collèges, communes) and the bulk form's collèges; the row count and
    one query for the page of rows (profession and collège joined, last membership as subqueries)."""
    set_tariffs(association)
    with scope(association=association):
        college = College.objects.create(association=association, name="PS libéraux")

    def add_members(start: int, stop: int) -> None:
        for i in range(start, stop):
            member = make_member(association, first_name=f"P{i}", last_name="Dupont", city=f"Ville {i % 7}",
                                 college=college, email=f"p{i}@exemple.fr")
            with scope(association=association):
                services.open_membership(member, coordinator, services.previous_period(association))

    url = list_url(association, **params)
    add_members(0, 2)
    with_two = _count_queries(coordinator_client, url)
    add_members(2, 60)
    with django_assert_num_queries(with_two):
        response = coordinator_client.get(url)
    assert len(listed_ids(response)) == 50
    assert with_two <= 12


def test_export_is_not_limited_to_the_page(coordinator_client, association, people):
    for i in range(55):
        make_member(association, first_name="Zoé", last_name=f"Zz{i:02d}", city="Tours")
    response = coordinator_client.get(list_url(association, city="Tours", _export="csv", page=1))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 1 + 57  # header, Claire, the MSP and the 55 new members
