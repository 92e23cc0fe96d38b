"""URLs of the ACI contract, mounted under /a/<association_slug>/aci/ (the tenant middleware resolves it)."""

from django.urls import include, path

from missions import urls_contract

urlpatterns = [
    *urls_contract.urlpatterns,
    path("actions/", include("missions.urls_actions")),
]
