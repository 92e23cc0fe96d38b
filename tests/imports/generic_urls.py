"""The project's URLs plus the screens of the test import kind of ``test_generic_kind`` (mounted the way
another app would mount its own kind: ``kind_urlpatterns(<kind>, <URL name prefix>)``)."""

from django.urls import include, path

from associations.imports.urls import kind_urlpatterns
from cpts.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("a/<slug:association_slug>/tarifs/import/", include(kind_urlpatterns("test_tariffs", "tariff_import"))),
    *project_urlpatterns,
]
