"""Campaign screens of the coordinator, mounted under /a/<association_slug>/campagnes/."""

from django.urls import path

from associations.campaigns import views

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("nouvelle/", views.campaign_create, name="campaign_create"),
    path("audience/", views.campaign_audience, name="campaign_audience"),
    path("<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<int:pk>/modifier/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/apercu/", views.campaign_preview, name="campaign_preview"),
    path("<int:pk>/envoi-test/", views.campaign_test_send, name="campaign_test_send"),
    path("<int:pk>/lancer/", views.campaign_launch, name="campaign_launch"),
    path("<int:pk>/programmer/", views.campaign_schedule, name="campaign_schedule"),
    path("<int:pk>/deprogrammer/", views.campaign_unschedule, name="campaign_unschedule"),
    path("<int:pk>/progression/", views.campaign_progress, name="campaign_progress"),
    path("<int:pk>/destinataires/", views.campaign_recipients, name="campaign_recipients"),
]
