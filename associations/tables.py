"""django-tables2 tables."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from associations.models import AuditLog


class AuditLogTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name=_("Date"), format="d/m/Y H:i")
    actor_label = tables.Column(verbose_name=_("Auteur"), order_by=("actor_label",))
    action = tables.Column(verbose_name=_("Action"))
    target_label = tables.Column(verbose_name=_("Objet"))
    changes = tables.Column(verbose_name=_("Modifications"), orderable=False)
    ip = tables.Column(verbose_name=_("IP"))

    class Meta:
        model = AuditLog
        fields = ("created_at", "actor_label", "action", "target_label", "changes", "ip")
        attrs = {"class": "table table-sm table-hover align-middle bg-white"}
        order_by = ("-created_at",)
        empty_text = _("Aucune entrée ne correspond à ces critères.")

    def value_created_at(self, value):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")

    def render_action(self, value, record):
        return record.action_label

    def value_action(self, value, record):
        return record.action_label

    def render_target_label(self, value, record):
        if record.target_type:
            return format_html("{} <span class='text-body-secondary small'>({})</span>", value, record.target_type)
        return value

    def render_changes(self, value):
        if not value:
            return "—"
        return format_html(
            "<ul class='list-unstyled mb-0 small'>{}</ul>",
            format_html_join("", "<li><strong>{}</strong> : {}</li>", ((k, v) for k, v in value.items())),
        )

    def value_changes(self, value):
        return "; ".join(f"{k}: {v}" for k, v in (value or {}).items())
