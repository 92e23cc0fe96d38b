"""The member space, mounted under /a/<association_slug>/mon-adhesion/ (members with a login)."""

from django.urls import path

from associations.membership import views_space

urlpatterns = [
    path("", views_space.member_space, name="member_space"),
    path("renouveler/", views_space.space_renew, name="space_renew"),
    path("profil/", views_space.space_profile, name="space_profile"),
    path("export/", views_space.space_export, name="space_export"),
    path("lettre-information/", views_space.space_newsletter, name="space_newsletter"),
    path("attestations/<int:pk>/", views_space.member_attestation, name="member_attestation"),
]
