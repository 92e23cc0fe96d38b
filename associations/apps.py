from django.apps import AppConfig


class AssociationsConfig(AppConfig):
    """The tenant (Association), user accounts and roles, invitations, audit log, members, campaigns."""

    name = "associations"
    verbose_name = "Associations"

    def ready(self) -> None:
        # Each feature registers its capabilities, audit action types and dashboard blocks
        # (associations.registries); apps to the left of associations do the same in their own ready().
        from associations import entries
        from associations.campaigns import entries as campaign_entries
        from associations.membership import entries as membership_entries
        from associations.membership import import_schema as membership_imports
        from associations.navigation import register_core_sections

        entries.register()
        membership_entries.register()
        membership_imports.register()
        campaign_entries.register()
        register_core_sections()
