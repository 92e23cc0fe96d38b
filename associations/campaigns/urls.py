"""Campaign screens of the coordinator, mounted under /a/<association_slug>/campagnes/."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
