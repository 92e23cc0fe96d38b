"""URLs of the actions registry and its calendar, mounted under /a/<association_slug>/aci/actions/."""

from django.urls import path

from missions import views_actions as views

urlpatterns = [
    path("", views.action_list, name="aci_actions"),
    path("nouvelle/", views.action_create, name="aci_action_create"),
    path("<int:pk>/", views.action_detail, name="aci_action_detail"),
    path("<int:pk>/modifier/", views.action_edit, name="aci_action_edit"),
    path("<int:pk>/supprimer/", views.action_delete, name="aci_action_delete"),
    path("calendrier/", views.calendar_month, name="aci_calendar"),
    path("calendrier/actions.ics", views.calendar_ics, name="aci_calendar_ics"),
]
