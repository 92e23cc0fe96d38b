"""Admin of the indicators (operator view only; coordinators use the grid)."""

from django.contrib import admin

from associations.admin.tenant import SuperuserOnlyMixin
from indicators.models import Evidence, Indicator, IndicatorValue, TargetRevision


@admin.register(Indicator)
class IndicatorAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["label", "association", "mission", "unit", "direction", "weight", "feed"]
    list_filter = ["association", "unit", "direction", "feed"]
    list_select_related = ["association", "mission__mission_type"]
    search_fields = ["label", "code"]
    raw_id_fields = ["mission", "template"]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["indicator", "association", "year", "baseline", "target", "realised", "measured_on"]
    list_filter = ["association", "year"]
    list_select_related = ["association", "indicator"]
    raw_id_fields = ["indicator", "entered_by"]


@admin.register(TargetRevision, Evidence)
class ReadOnlyIndicatorsAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_filter = ["association"]

    def has_change_permission(self, request, obj=None):
        return False
