"""``associations.exports.export_response``: the one way a list page offers CSV and Excel downloads.
Only csv and xlsx: any other ``_export`` value renders the page as usual (never a 500)."""

from __future__ import annotations

import csv
import io

import django_tables2 as tables
import pytest
from django.test import RequestFactory
from django.urls import reverse

from associations.exports import export_response
from tests.campaigns.conftest import make_campaign


class PeopleTable(tables.Table):
    name = tables.Column(verbose_name="Nom")
    city = tables.Column(verbose_name="Commune")
    select = tables.CheckBoxColumn(accessor="name")


ROWS = [{"name": "Claire", "city": "Tours"}, {"name": "Paul", "city": "Blois"}]


def _export(query: dict, **kwargs):
    request = RequestFactory().get("/liste/", query)
    return export_response(request, PeopleTable(ROWS), filename="personnes", **kwargs)


def test_csv_download_with_excluded_columns():
    response = _export({"_export": "csv"}, exclude_columns=("select",))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="personnes.csv"' in response["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["Nom", "Commune"], ["Claire", "Tours"], ["Paul", "Blois"]]


def test_xlsx_download_names_its_sheet():
    from openpyxl import load_workbook

    response = _export({"_export": "xlsx"}, title="Personnes")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="personnes.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Personnes"]
    assert [cell.value for cell in book.active[1]][:2] == ["Nom", "Commune"]


@pytest.mark.parametrize("query", [{}, {"_export": ""}, {"_export": "yaml"}, {"_export": "json"},
                                   {"_export": "xls"}, {"_export": "CSV"}, {"_export": "../etc"}])
def test_no_export_or_a_format_we_do_not_offer_gives_none(query):
    assert _export(query) is None


@pytest.mark.django_db
@pytest.mark.parametrize("page_name", ["audit_log", "member_list", "campaign_recipients"])
def test_each_list_page_exports_csv_and_xlsx_and_ignores_other_formats(coordinator_client, association, page_name):
    kwargs = {"association_slug": association.slug}
    if page_name == "campaign_recipients":
        kwargs["pk"] = make_campaign(association).pk
    url = reverse(page_name, kwargs=kwargs)
    for wanted, content_type in (("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats")):
        response = coordinator_client.get(url, {"_export": wanted})
        assert response.status_code == 200 and response["Content-Type"].startswith(content_type)
        assert response["Content-Disposition"].endswith(f'.{wanted}"')
    for other in ("yaml", "json", "latex"):
        response = coordinator_client.get(url, {"_export": other})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
