"""Automatic reminders screens, mounted under /a/<association_slug>/relances/."""

from django.urls import path

from associations.campaigns import views_reminders as views

urlpatterns = [
    path("", views.reminder_settings, name="reminder_settings"),
    path("pause/", views.reminder_toggle, name="reminder_toggle"),
]
