"""Links carried by e-mails, mounted under /p/<association_slug>/e/ (no login, scoped by the slug)."""

from django.urls import path

from associations.campaigns import views_public

urlpatterns = [
    path("desinscription/<str:token>/", views_public.unsubscribe, name="mail_unsubscribe"),
    path("o/<str:token>/", views_public.mail_open, name="mail_open"),
    path("c/<str:token>/", views_public.mail_click, name="mail_click"),
]
