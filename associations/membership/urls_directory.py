"""The coordinator's member directory, mounted under /a/<slug>/adherents/."""

from django.urls import path

from associations.campaigns import views_reminders
from associations.membership import views_directory as views

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("nouveau/", views.member_create, name="member_create"),
    path("actions-groupees/", views.member_bulk, name="member_bulk"),
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/modifier/", views.member_edit, name="member_edit"),
    path("<int:pk>/ouvrir-adhesion/", views.member_open_membership, name="member_open_membership"),
    path("<int:pk>/paiement/", views.member_record_payment, name="member_record_payment"),
    path("<int:pk>/depart/", views.member_departure, name="member_departure"),
    path("<int:pk>/reinscrire/", views_reminders.member_resubscribe, name="member_resubscribe"),
    path("adhesions/<int:pk>/statut/", views.membership_set_status, name="membership_set_status"),
    path("adhesions/<int:pk>/attestation/", views.membership_attestation, name="membership_attestation"),
    path("paiements/<int:pk>/valider/", views.payment_validate, name="payment_validate"),
]
