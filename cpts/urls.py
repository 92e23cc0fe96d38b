from django.contrib import admin
from django.urls import include, path

from associations import views
from associations.campaigns.views_public import bounce_webhook

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("profil/", views.profile, name="profile"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("a/<slug:association_slug>/aci/indicateurs/", include("indicators.urls")),
    path("a/<slug:association_slug>/aci/import/", include("indicators.urls_cpam")),
    path("a/<slug:association_slug>/aci/", include("missions.urls")),
    path("a/<slug:association_slug>/", include("associations.urls")),
    # Public pages of an association (join form, renewal by personal link): no login, scoped by slug.
    path("p/<slug:association_slug>/", include("associations.membership.urls_public")),
    path("p/<slug:association_slug>/e/", include("associations.campaigns.urls_public")),
    path("webhooks/rebonds/", bounce_webhook, name="bounce_webhook"),
]

handler403 = "django.views.defaults.permission_denied"
handler404 = "django.views.defaults.page_not_found"
handler500 = "django.views.defaults.server_error"
