"""URLs of the indicators, the grid and the evidence, under /a/<association_slug>/aci/indicateurs/."""

from django.urls import path

from indicators import views

urlpatterns = [
    path("", views.grid, name="aci_grid"),
    path("nouveau/", views.indicator_create, name="aci_indicator_create"),
    path("<int:pk>/modifier/", views.indicator_edit, name="aci_indicator_edit"),
    path("<int:pk>/supprimer/", views.indicator_delete, name="aci_indicator_delete"),
    path("<int:pk>/annee/<int:year>/", views.cell, name="aci_cell"),
    path("<int:pk>/annee/<int:year>/valeur/", views.cell_detail, name="aci_cell_detail"),
    path("<int:pk>/annee/<int:year>/revision/", views.cell_revise, name="aci_cell_revise"),
    path("<int:pk>/annee/<int:year>/livrable/", views.evidence_upload, name="aci_evidence_upload"),
    path("<int:pk>/annee/<int:year>/<str:field>/", views.cell_edit, name="aci_cell_edit"),
    path("livrables/", views.evidence_checklist, name="aci_evidence"),
    path("livrables/<int:pk>/", views.evidence_download, name="aci_evidence_download"),
    path("livrables/action/<int:pk>/", views.evidence_action, name="aci_evidence_action"),
    path("livrables/<int:pk>/supprimer/", views.evidence_delete, name="aci_evidence_delete"),
]
