"""Membership administration, mounted under /a/<slug>/adhesions/: the "à valider" queue, the membership
settings (period, bank details, tariffs, collèges, documents) and the RGPD screens."""

from django.urls import path

from associations.membership import views_admin

urlpatterns = [
    path("", views_admin.membership_queue, name="membership_queue"),
    path("<int:pk>/valider/", views_admin.membership_validate, name="membership_validate"),
    path("demandes/<int:pk>/decision/", views_admin.application_decide, name="application_decide"),
    path("parametres/", views_admin.membership_settings, name="membership_settings"),
    path("parametres/tarifs/", views_admin.tariff_save, name="tariff_save"),
    path("parametres/colleges/ajouter/", views_admin.college_add, name="college_add"),
    path("parametres/colleges/<int:pk>/renommer/", views_admin.college_edit, name="college_edit"),
    path("parametres/colleges/<int:pk>/supprimer/", views_admin.college_delete, name="college_delete"),
    path("parametres/documents/deposer/", views_admin.document_upload, name="document_upload"),
    path("documents/<int:pk>/", views_admin.association_document, name="association_document"),
    path("rgpd/", views_admin.lapsed_members, name="lapsed_members"),
    path("rgpd/<int:pk>/anonymiser/", views_admin.member_erase, name="member_erase"),
    path("rgpd/<int:pk>/export/", views_admin.member_export, name="member_export"),
]
