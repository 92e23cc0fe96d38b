"""Matrix rows of the members import screens (/a/<slug>/adherents/import/...): capability import_members
(coordinator and assistant)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope

from associations.models import Role
from tests.tenancy.matrix_base import EDITORS, Case

CSV = "Nom;Prénom;Profession;Code postal\r\nDupont;Claire;Médecin généraliste;37000\r\n".encode("utf-8-sig")
MAPPING = {"col_0": "last_name", "col_1": "first_name", "col_2": "profession", "col_3": "postal_code"}


def _job(association, users, *, previewed: bool = False) -> dict:
    from associations.membership import imports

    with scope(association=association):
        job = imports.create_job(association, users[Role.COORDINATOR], "adherents.csv", CSV)
        if previewed:
            imports.save_mapping(job, imports.guess_mapping(imports.load_table(job).headers))
    return {"import_job": job.pk}


def uploaded(association, users) -> dict:
    return _job(association, users)


def previewed(association, users) -> dict:
    return _job(association, users, previewed=True)


def job_kwargs(objects: dict) -> dict:
    return {"pk": objects["import_job"]}


CASES = {
    "import_list": Case(EDITORS, setup=previewed),
    "import_upload": Case(EDITORS, "post", (302,),
                          data=lambda o: {"file": SimpleUploadedFile("adherents.csv", CSV, content_type="text/csv")}),
    "import_mapping": Case(EDITORS, "post", (302,), data=MAPPING, kwargs=job_kwargs, setup=uploaded),
    "import_preview": Case(EDITORS, kwargs=job_kwargs, setup=previewed),
    "import_confirm": Case(EDITORS, "post", (302,), kwargs=job_kwargs, setup=previewed),
    "import_status": Case(EDITORS, kwargs=job_kwargs, setup=previewed),
}
