"""django-tables2 table of the actions registry (sort, pagination, CSV/XLSX export).

Rows come from ``selectors_actions.action_queryset``: mission, type and total participants are joined
or annotated, so a page costs the same number of queries for 10 or 2 000 actions.
"""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from missions.models import Action


class ActionTable(tables.Table):
    date = tables.DateColumn(verbose_name=_("Date"), format="d/m/Y", order_by=("date", "pk"))
    title = tables.Column(verbose_name=_("Intitulé"), order_by=("title", "pk"))
    action_type = tables.Column(verbose_name=_("Type"), accessor="action_type__label",
                                order_by=("action_type__label", "date"))
    mission = tables.Column(verbose_name=_("Mission"), accessor="mission__mission_type__label",
                            order_by=("mission__mission_type__order", "date"))
    place = tables.Column(verbose_name=_("Lieu"), default="")
    participants = tables.Column(verbose_name=_("Participants"), attrs={"td": {"class": "text-end"},
                                                                       "th": {"class": "text-end"}})
    partners = tables.Column(verbose_name=_("Partenaires"), default="", visible=False)
    description = tables.Column(verbose_name=_("Description"), default="", visible=False)

    class Meta:
        model = Action
        fields = ()
        sequence = ("date", "title", "action_type", "mission", "place", "participants", "...")
        attrs = {"class": "table table-sm table-hover align-middle bg-white", "id": "action-table"}
        template_name = "django_tables2/bootstrap5-responsive.html"
        empty_text = _("Aucune action ne correspond à ces critères.")
        order_by = ("-date",)

    def __init__(self, *args, association_slug: str, **kwargs):
        self.association_slug = association_slug
        super().__init__(*args, **kwargs)

    def render_title(self, value, record):
        url = reverse("aci_action_detail", kwargs={"association_slug": self.association_slug, "pk": record.pk})
        return format_html('<a href="{}">{}</a>', url, value)

    def value_title(self, value, record):
        return value
