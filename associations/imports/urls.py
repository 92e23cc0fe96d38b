"""URLs of the import screens of one kind; this module's ``urlpatterns`` serve the members import,
mounted under /a/<slug>/adherents/import/ (URL names ``import_list``, ``import_upload``…).

Another kind mounts its own set from its app: ``path("indicateurs/import/",
include(kind_urlpatterns("indicator_values", "indicator_import")))``.
"""

from django.urls import URLPattern, path

from associations.imports import views
from associations.models import ImportJob


def kind_urlpatterns(kind: str, prefix: str) -> list[URLPattern]:
    """The six screens of import kind ``kind``, named ``<prefix>_list``, ``<prefix>_upload``…"""
    extra = {"import_kind": kind, "url_prefix": prefix}
    return [
        path("", views.import_list, extra, name=f"{prefix}_list"),
        path("deposer/", views.import_upload, extra, name=f"{prefix}_upload"),
        path("<int:pk>/colonnes/", views.import_mapping, extra, name=f"{prefix}_mapping"),
        path("<int:pk>/apercu/", views.import_preview, extra, name=f"{prefix}_preview"),
        path("<int:pk>/confirmer/", views.import_confirm, extra, name=f"{prefix}_confirm"),
        path("<int:pk>/etat/", views.import_status, extra, name=f"{prefix}_status"),
    ]


urlpatterns = kind_urlpatterns(ImportJob.DEFAULT_KIND, "import")
