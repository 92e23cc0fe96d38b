"""URLs of the contract, its avenants, missions and deadlines."""

from django.urls import path

from missions import views

urlpatterns = [
    path("", views.aci_contract, name="aci_contract"),
    path("contrat/creer/", views.aci_contract_create, name="aci_contract_create"),
    path("contrat/modifier/", views.aci_contract_edit, name="aci_contract_edit"),
    path("contrat/document/", views.aci_contract_document, name="aci_contract_document"),
    path("avenants/nouveau/", views.aci_avenant_create, name="aci_avenant_create"),
    path("avenants/<int:pk>/document/", views.aci_avenant_document, name="aci_avenant_document"),
    path("missions/", views.aci_missions, name="aci_missions"),
    path("missions/<int:pk>/", views.aci_mission_detail, name="aci_mission_detail"),
    path("missions/<int:pk>/modifier/", views.aci_mission_edit, name="aci_mission_edit"),
    path("missions/<int:pk>/etat/", views.aci_mission_status, name="aci_mission_status"),
    path("missions/<int:pk>/echeance/", views.aci_mission_deadline, name="aci_mission_deadline"),
]
