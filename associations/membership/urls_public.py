"""Public pages of an association, mounted under /p/<association_slug>/ (no login; the tenant
middleware resolves the slug and activates the association's scope)."""

from django.urls import path

from associations import views as association_views
from associations.membership import views_public

urlpatterns = [
    path("logo/", association_views.public_logo, name="public_logo"),
    path("adherer/", views_public.join, name="join"),
    path("adherer/merci/", views_public.join_done, name="join_done"),
    path("documents/<int:pk>/", views_public.public_document, name="public_document"),
    path("renouveler/<str:token>/", views_public.renewal, name="renewal"),
    path("renouveler/<str:token>/document/<int:pk>/", views_public.renewal_document, name="renewal_document"),
    path("renouveler/<str:token>/espace/", views_public.renewal_account, name="renewal_account"),
]
