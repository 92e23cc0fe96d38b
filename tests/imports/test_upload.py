"""Upload step: files as French spreadsheets export them are accepted; anything else is refused with a
clear French message and nothing is written (no ImportJob row, no stored file)."""

from __future__ import annotations

import io
import time
import zipfile
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse
from django_scopes import scope

from associations.imports import reader, services
from associations.models import ImportJob
from tests.imports.helpers import RPPS, csv_bytes, last_job, person, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_refused(response, message: str, association, settings) -> None:
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert message in html, html[:3000]
    assert 'id="id_file_errors"' in html  # the message sits next to the file field
    with scope(association=association):
        assert not ImportJob.objects.filter(association=association).exists()
    assert stored_files(settings) == []


def test_upload_page_renders_in_french(coordinator_client, association):
    response = coordinator_client.get(reverse("import_upload", args=[association.slug]))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert '<label class="form-label" for="id_file">Fichier des adhérents (CSV ou Excel .xlsx)' in html
    assert 'enctype="multipart/form-data"' in html
    assert "Rien n'est enregistré dans les adhérents avant votre confirmation" in html


def test_semicolon_utf8_bom_with_accents_spaces_and_trailing_lines(coordinator_client, association, settings):
    data = csv_bytes([
        person(last="  Lefèvre ", first=" Hélène  ", rpps=RPPS[0], email="helene@example.org", joined="05/03/2021"),
        person(last="Müller", first="Zoé", profession="  Infirmière ", rpps=RPPS[1]),
    ])
    assert data.startswith(b"\xef\xbb\xbf")
    response = upload(coordinator_client, association, data)
    job = last_job(association)
    assert response.status_code == 302
    assert response["Location"] == reverse("import_mapping", args=[association.slug, job.pk])
    assert job.status == ImportJob.Status.UPLOADED
    assert job.total_rows == 2  # the empty and ";;;" trailing lines are not rows
    assert job.original_name == "adherents.csv"
    assert job.file.name.startswith(f"associations/{association.pk}/imports/")
    assert job.mapping == {"0": "civility", "1": "last_name", "2": "first_name", "3": "profession", "4": "rpps",
                           "5": "email", "6": "phone", "7": "postal_code", "8": "city", "9": "college",
                           "10": "joined_on"}
    table = services.load_table(job)
    assert table.rows[0] == (2, ["Dr", "Lefèvre", "Hélène", "Médecin généraliste", RPPS[0], "helene@example.org", "",
                                 "37000", "Tours", "", "05/03/2021"])
    assert table.rows[1][1][3] == "Infirmière"


def test_comma_separated_windows_1252(coordinator_client, association):
    data = csv_bytes([person(last="Lefèvre", first="Hélène", city="Châteauroux")], delimiter=",", encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert upload(coordinator_client, association, data).status_code == 302
    table = services.load_table(last_job(association))
    assert table.rows[0][1][1:3] == ["Lefèvre", "Hélène"]
    assert table.rows[0][1][8] == "Châteauroux"


def test_xlsx_with_real_dates_and_numbers(coordinator_client, association):
    from datetime import datetime

    data = xlsx_bytes([["Mme", "Lefèvre", "Hélène", "IDE", int(RPPS[0]), "h@example.org", "", 1000, "Bourg", "",
                        datetime(2021, 3, 5)], [], []])
    response = upload(coordinator_client, association, data, name="adherents.xlsx")
    assert response.status_code == 302
    table = services.load_table(last_job(association))
    assert table.rows == [(2, ["Mme", "Lefèvre", "Hélène", "IDE", RPPS[0], "h@example.org", "", "1000", "Bourg", "",
                               "05/03/2021"])]


def test_utf16_file_is_refused_with_a_clear_message(coordinator_client, association, settings):
    data = ";".join(["Nom", "Prénom"]).encode("utf-16") + "\r\nDupont;Claire\r\n".encode("utf-16-le")
    response = upload(coordinator_client, association, data)
    assert_refused(response, "Le fichier est encodé en UTF-16", association, settings)


def test_utf16_without_bom_is_refused_too(coordinator_client, association, settings):
    data = "Nom;Prénom\r\nDupont;Claire\r\n".encode("utf-16-le")
    assert_refused(upload(coordinator_client, association, data), "encodé en UTF-16", association, settings)


def test_bytes_invalid_in_utf8_and_windows_1252(coordinator_client, association, settings):
    data = b"Nom;Pr\xe9nom\r\nDupont;Cl\x81ire\r\n"
    assert_refused(upload(coordinator_client, association, data), "L'encodage du fichier n'est pas reconnu",
                   association, settings)


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n  ", b";;;\r\n;;\r\n"])
def test_empty_file(coordinator_client, association, settings, data):
    response = upload(coordinator_client, association, data)
    assert response.status_code == 400
    assert "Le fichier est vide." in unescape(response.content.decode())
    assert last_job(association) is None
    assert stored_files(settings) == []


def test_png_is_not_a_spreadsheet(coordinator_client, association, settings):
    from tests.tenancy.matrix_base import PNG

    response = upload(coordinator_client, association, PNG, name="photo.csv")
    assert_refused(response, "Ce fichier n'est pas un tableur (une image PNG)", association, settings)


@pytest.mark.parametrize("data,what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "un document PDF"),
    (bytes(range(256)) * 40, ""),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "ancien fichier Excel (.xls)"),
])
def test_other_binaries_are_not_spreadsheets(coordinator_client, association, settings, data, what):
    response = upload(coordinator_client, association, data, name="adherents.xlsx")
    assert_refused(response, "n'est pas un tableur", association, settings)
    assert what in response.content.decode()


def test_zip_that_is_not_a_workbook(coordinator_client, association, settings):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    response = upload(coordinator_client, association, buffer.getvalue(), name="adherents.ods")
    assert_refused(response, "OpenDocument (.ods) ne sont pas pris en charge", association, settings)


def test_broken_xlsx(coordinator_client, association, settings):
    data = xlsx_bytes([["Mme", "Dupont"]])[:3000]
    assert_refused(upload(coordinator_client, association, data, name="a.xlsx"), "illisible", association, settings)


def test_twenty_megabytes_refused_quickly_without_being_read(coordinator_client, association, settings, monkeypatch):
    read = []
    monkeypatch.setattr(services, "read_table", lambda *a, **k: read.append(1))
    data = csv_bytes([person()]) + b"x" * (20 * 1024 * 1024)
    started = time.monotonic()
    response = upload(coordinator_client, association, data)
    elapsed = time.monotonic() - started
    assert_refused(response, "Le fichier est trop volumineux (20.0 Mo) : 10 Mo au maximum.", association, settings)
    assert read == []
    assert elapsed < 5  # measured ~0.3 s on the 2-core box, most of it the test client building the body


def test_size_checked_from_the_uploaded_file_too(coordinator_client, association, settings, monkeypatch):
    """Below the Content-Length shortcut, the form checks ``UploadedFile.size`` before reading."""
    monkeypatch.setattr(reader, "MAX_BYTES", 1000)
    response = upload(coordinator_client, association, csv_bytes([person()] * 40))
    assert_refused(response, "Le fichier est trop volumineux", association, settings)


def test_header_row_missing(coordinator_client, association, settings):
    data = csv_bytes([person(last="Martin", rpps=RPPS[1], email="m@example.org")],
                     header=person(rpps=RPPS[0], email="c@example.org", joined="01/02/2020"))
    assert_refused(upload(coordinator_client, association, data), "La ligne d'en-tête manque", association,
                   settings)


def test_no_recognizable_column(coordinator_client, association, settings):
    data = "Bonjour;Merci\r\nCeci n'est pas;un tableau d'adhérents\r\n".encode()
    assert_refused(upload(coordinator_client, association, data), "Aucune colonne n'est reconnue", association,
                   settings)


def test_header_only(coordinator_client, association, settings):
    data = csv_bytes([])
    assert_refused(upload(coordinator_client, association, data), "ne contient que la ligne d'en-tête",
                   association, settings)


def test_no_file_chosen(coordinator_client, association, settings):
    response = coordinator_client.post(reverse("import_upload", args=[association.slug]), {})
    assert_refused(response, "Choisissez le fichier à importer.", association, settings)


def test_audit_row_for_the_upload(coordinator_client, association):
    from associations.models import AuditLog

    upload(coordinator_client, association, csv_bytes([person()]))
    with scope(association=association):
        row = AuditLog.objects.get(association=association, action="member.import_upload")
    assert row.changes == {"file": "adherents.csv", "rows": 1}


def test_csrf_is_still_checked_on_uploads(association, users, settings):
    """The view is csrf_exempt only to refuse an oversized body before reading it; then it checks."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["coordinator"])
    response = upload(client, association, csv_bytes([person()]))
    assert response.status_code == 403
    assert last_job(association) is None
    page = client.get(reverse("import_upload", args=[association.slug]))
    token = page.cookies["csrftoken"].value
    response = client.post(reverse("import_upload", args=[association.slug]),
                           {"file": SimpleUploadedFile("a.csv", csv_bytes([person()])),
                            "csrfmiddlewaretoken": token})
    assert response.status_code == 302
