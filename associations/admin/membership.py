"""Admin of the membership models (operator view; the professions reference data is edited here)."""

from django.contrib import admin

from associations.admin.tenant import SuperuserOnlyMixin
from associations.models import (
    AssociationDocument,
    College,
    ImportJob,
    Member,
    Membership,
    Payment,
    Profession,
    Tariff,
)


@admin.register(Profession)
class ProfessionAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["label", "code", "has_specialty", "order", "active"]
    list_editable = ["order", "active"]
    search_fields = ["label", "code"]


@admin.register(College, Tariff)
class TenantReferenceAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_filter = ["association"]


@admin.register(Member)
class MemberAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "association", "profession", "college", "city", "status"]
    list_filter = ["association", "status", "kind"]
    list_select_related = ["association", "profession", "college"]
    search_fields = ["last_name", "first_name", "structure_name", "rpps", "email"]
    raw_id_fields = ["practice_structure", "user"]


@admin.register(Membership)
class MembershipAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["member", "association", "period_label", "amount_due", "amount_paid", "status"]
    list_filter = ["association", "status"]
    list_select_related = ["member", "association"]
    raw_id_fields = ["member"]


@admin.register(Payment, AssociationDocument, ImportJob)
class ReadOnlyTenantAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_filter = ["association"]

    def has_change_permission(self, request, obj=None):
        return False
