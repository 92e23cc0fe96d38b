"""Matrix rows of the CPAM indicator values import screens (/a/<slug>/aci/import/...): capability
``manage_contract`` (coordinator and assistant).

Each setup makes a contract with one indicator (code "ACC-01") and a job through the screens themselves
(upload, then column mapping), so that a previewed job has no row in error and can be confirmed."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from associations.models import ImportJob, Role
from tests.aci.conftest import make_contract
from tests.tenancy.matrix_base import CALLER, EDITORS, Case, audited, exists, row_is

KIND = "cpam_indicators"
CSV = "Code indicateur;Année du contrat;Valeur réalisée\r\nACC-01;1;950\r\n".encode("utf-8-sig")
MAPPING = {"col_0": "code", "col_1": "year", "col_2": "value"}


def _csv_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("cpam.csv", CSV, content_type="text/csv")


def _indicator(association) -> None:
    from indicators.models import Indicator

    contract = make_contract(association)
    with scope(association=association):
        mission = contract.missions.order_by("mission_type__order").first()
        Indicator.objects.create(association=association, mission=mission, code="ACC-01", unit="count",
                                 direction="down", label="Patients en ALD sans médecin traitant")


def _job(association, users, *, previewed: bool = False) -> dict:
    _indicator(association)
    client = Client()
    client.force_login(users[Role.COORDINATOR])
    slug = {"association_slug": association.slug}
    response = client.post(reverse("aci_import_upload", kwargs=slug), {"file": _csv_file()})
    assert response.status_code == 302, response.content.decode()[:500]
    with scope(association=association):
        job = ImportJob.objects.filter(association=association, kind=KIND).latest("pk")
    if previewed:
        response = client.post(reverse("aci_import_mapping", kwargs={**slug, "pk": job.pk}), MAPPING)
        assert response.status_code == 302, response.content.decode()[:500]
    return {"import_job": job.pk}


def contract_only(association, users) -> dict:
    _indicator(association)
    return {}


def uploaded(association, users) -> dict:
    return _job(association, users)


def previewed(association, users) -> dict:
    return _job(association, users, previewed=True)


def job_kwargs(objects: dict) -> dict:
    return {"pk": objects["import_job"]}


CASES = {
    "aci_import_list": Case(EDITORS, setup=previewed),
    "aci_import_upload": Case(EDITORS, "post", (302,), data=lambda o: {"file": _csv_file()}, setup=contract_only,
                              effect=(exists(ImportJob, kind=KIND, original_name="cpam.csv", created_by=CALLER),
                                      audited("indicator_value.import_upload"))),
    "aci_import_mapping": Case(EDITORS, "post", (302,), data=MAPPING, kwargs=job_kwargs, setup=uploaded,
                               effect=row_is(ImportJob, "import_job", status=ImportJob.Status.PREVIEWED)),
    "aci_import_preview": Case(EDITORS, kwargs=job_kwargs, setup=previewed),
    "aci_import_confirm": Case(EDITORS, "post", (302,), kwargs=job_kwargs, setup=previewed,
                               effect=row_is(ImportJob, "import_job", status=ImportJob.Status.QUEUED)),
    "aci_import_status": Case(EDITORS, kwargs=job_kwargs, setup=previewed),
}
