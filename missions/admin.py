"""Operator admin (superusers only) of the ACI reference data: versions, size bands, the mission catalogue
with its indicator templates, action types. Coordinators never need it; tenant data is not edited here."""

from __future__ import annotations

from django.contrib import admin

from associations.admin.tenant import SuperuserOnlyMixin
from missions.models import ACIVersion, ActionType, IndicatorTemplate, MissionType, SizeBand


class SizeBandInline(SuperuserOnlyMixin, admin.TabularInline):
    model = SizeBand
    extra = 0


@admin.register(ACIVersion)
class ACIVersionAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["label", "code", "effective_on"]
    search_fields = ["label", "code"]
    inlines = [SizeBandInline]


@admin.register(SizeBand)
class SizeBandAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "version", "min_population", "max_population"]
    list_filter = ["version"]


class IndicatorTemplateInline(SuperuserOnlyMixin, admin.TabularInline):
    model = IndicatorTemplate
    extra = 0
    fields = ["order", "label", "unit", "direction", "source"]


@admin.register(MissionType)
class MissionTypeAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["label", "code", "version", "kind", "start_months", "deployment_months", "order"]
    list_filter = ["version", "kind"]
    search_fields = ["label", "code"]
    ordering = ["version", "order"]
    inlines = [IndicatorTemplateInline]


@admin.register(ActionType)
class ActionTypeAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["label", "code", "order"]
    search_fields = ["label", "code"]
