"""Builders of spreadsheet files as French offices export them, and small helpers for the import tests."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from associations.models import College, ImportJob, Member

HEADER = ["Civilité", "NOM DE FAMILLE", "Prénom", "Profession", "N° RPPS", "Courriel", "Tel", "CP", "Commune",
          "Collège", "Date d'adhésion"]
# Valid RPPS numbers (Luhn key correct).
RPPS = ["10100000008", "10100000016", "10100000024", "10100000032", "10100000040", "10100000057"]


def csv_bytes(rows: list[list[str]], header: list[str] | None = None, delimiter: str = ";",
              encoding: str = "utf-8-sig", trailing: str = "\r\n\r\n;;;\r\n") -> bytes:
    lines = [delimiter.join(header if header is not None else HEADER)]
    lines += [delimiter.join(row) for row in rows]
    return ("\r\n".join(lines) + trailing).encode(encoding)


def person(last="Dupont", first="Claire", profession="Médecin généraliste", rpps="", email="", phone="",
           cp="37000", city="Tours", college="", joined="", civility="Dr") -> list[str]:
    return [civility, last, first, profession, rpps, email, phone, cp, city, college, joined]


def xlsx_bytes(rows: list[list], header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header if header is not None else HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, association, data: bytes, name: str = "adherents.csv"):
    return client.post(reverse("import_upload", args=[association.slug]),
                       {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def last_job(association) -> ImportJob | None:
    with scope(association=association):
        return ImportJob.objects.filter(association=association).order_by("-pk").first()


def preview_job(client, association, data: bytes, mapping: dict[str, str] | None = None,
                name: str = "adherents.csv") -> ImportJob:
    """Upload, keep the guessed mapping (or post ``mapping``), return the previewed job."""
    response = upload(client, association, data, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = last_job(association)
    form = mapping if mapping is not None else {f"col_{k}": v for k, v in job.mapping.items()}
    response = client.post(reverse("import_mapping", args=[association.slug, job.pk]), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    job.refresh_from_db()
    return job


def members(association) -> list[Member]:
    with scope(association=association):
        return list(Member.objects.filter(association=association).select_related("profession", "college")
                    .order_by("pk"))


def make_college(association, name: str) -> College:
    with scope(association=association):
        return College.objects.create(association=association, name=name)
