"""Automatic reminders screens, mounted under /a/<association_slug>/relances/."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
