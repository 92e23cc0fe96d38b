"""Matrix rows of the members import screens (/a/<slug>/adherents/import/...): capability import_members
(coordinator and assistant).

The jobs are made through the screens themselves (upload, then column mapping) rather than by calling
the import services: the rows only depend on the URL names and kwargs, not on where the code lives."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from associations.models import ImportJob, Role
from tests.tenancy.matrix_base import CALLER, EDITORS, Case, audited, exists, row_is

CSV = "Nom;Prénom;Profession;Code postal\r\nDupont;Claire;Médecin généraliste;37000\r\n".encode("utf-8-sig")
MAPPING = {"col_0": "last_name", "col_1": "first_name", "col_2": "profession", "col_3": "postal_code"}


def _csv_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("adherents.csv", CSV, content_type="text/csv")


def _job(association, users, *, previewed: bool = False) -> dict:
    client = Client()
    client.force_login(users[Role.COORDINATOR])
    slug = {"association_slug": association.slug}
    response = client.post(reverse("import_upload", kwargs=slug), {"file": _csv_file()})
    assert response.status_code == 302, response.content.decode()[:500]
    with scope(association=association):
        job = ImportJob.objects.filter(association=association).latest("pk")
    if previewed:
        response = client.post(reverse("import_mapping", kwargs={**slug, "pk": job.pk}), MAPPING)
        assert response.status_code == 302, response.content.decode()[:500]
    return {"import_job": job.pk}


def uploaded(association, users) -> dict:
    return _job(association, users)


def previewed(association, users) -> dict:
    return _job(association, users, previewed=True)


def job_kwargs(objects: dict) -> dict:
    return {"pk": objects["import_job"]}


CASES = {
    "import_list": Case(EDITORS, setup=previewed),
    "import_upload": Case(EDITORS, "post", (302,), data=lambda o: {"file": _csv_file()},
                          effect=(exists(ImportJob, original_name="adherents.csv", created_by=CALLER),
                                  audited("member.import_upload"))),
    "import_mapping": Case(EDITORS, "post", (302,), data=MAPPING, kwargs=job_kwargs, setup=uploaded,
                           effect=row_is(ImportJob, "import_job", status=ImportJob.Status.PREVIEWED)),
    "import_preview": Case(EDITORS, kwargs=job_kwargs, setup=previewed),
    "import_confirm": Case(EDITORS, "post", (302,), kwargs=job_kwargs, setup=previewed,
                           effect=row_is(ImportJob, "import_job", status=ImportJob.Status.QUEUED)),
    "import_status": Case(EDITORS, kwargs=job_kwargs, setup=previewed),
}
