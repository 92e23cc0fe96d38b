"""Django admin: for the platform operator (superuser) only; it runs with scopes disabled
(see associations.middleware)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from associations import audit
from associations.models import Association, AuditLog, Invitation, User, UserRole


class SuperuserOnlyMixin:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(User)
class UserAdmin(SuperuserOnlyMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Association)
class AssociationAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "population", "aci_size", "contact_email", "created_at"]
    search_fields = ["name", "slug", "siret", "finess"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [UserRoleInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(obj, request.user, "association.update" if change else "association.create", obj,
                     changes={k: str(form.cleaned_data.get(k)) for k in form.changed_data}, request=request)


@admin.register(Invitation)
class InvitationAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["email", "association", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["association", "role"]
    readonly_fields = ["nonce"]


@admin.register(AuditLog)
class AuditLogAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "association", "actor_label", "action", "target_label"]
    list_filter = ["association", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
