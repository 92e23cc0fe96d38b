"""Members import, mounted under /a/<slug>/adherents/import/."""

from django.urls import path

from associations.membership import views_import as views

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("deposer/", views.import_upload, name="import_upload"),
    path("<int:pk>/colonnes/", views.import_mapping, name="import_mapping"),
    path("<int:pk>/apercu/", views.import_preview, name="import_preview"),
    path("<int:pk>/confirmer/", views.import_confirm, name="import_confirm"),
    path("<int:pk>/etat/", views.import_status, name="import_status"),
]
