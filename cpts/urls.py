from django.contrib import admin
from django.urls import include, path

from associations import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("profil/", views.profile, name="profile"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("a/<slug:association_slug>/", include("associations.urls")),
]

handler403 = "django.views.defaults.permission_denied"
handler404 = "django.views.defaults.page_not_found"
handler500 = "django.views.defaults.server_error"
