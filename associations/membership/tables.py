"""Table of the member directory (django-tables2): sorting, pagination, CSV/XLSX export.

Rows come from ``member_directory_queryset``: the profession and collège are joined and the last
membership is two subquery annotations, so a page costs the same number of queries for 2 or 2 000
members.
"""

from __future__ import annotations

import django_tables2 as tables
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Case, F, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from associations.models import (
    Association,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    StructureType,
)

ANONYMIZED_LABEL = _("Adhérent anonymisé")

MEMBER_STATUS_BADGES = {
    MemberStatus.PROSPECT: "text-bg-light border",
    MemberStatus.UP_TO_DATE: "text-bg-success",
    MemberStatus.TO_RENEW: "text-bg-warning",
    MemberStatus.RESIGNED: "text-bg-secondary",
    MemberStatus.STRUCK_OFF: "text-bg-dark",
}
MEMBERSHIP_STATUS_BADGES = {
    MembershipStatus.DUE: "text-bg-warning",
    MembershipStatus.PENDING: "text-bg-info",
    MembershipStatus.PAID: "text-bg-success",
    MembershipStatus.EXEMPT: "text-bg-primary",
    MembershipStatus.CANCELLED: "text-bg-secondary",
}
MEMBER_STATUS_LABELS = dict(MemberStatus.choices)
MEMBERSHIP_STATUS_LABELS = dict(MembershipStatus.choices)
STRUCTURE_TYPE_LABELS = dict(StructureType.choices)


def member_directory_queryset(association: Association) -> QuerySet[Member]:
    """Members of ``association`` with what the directory shows, in one query per page."""
    last = Membership.objects.filter(association=association, member=OuterRef("pk")).order_by("-start_date", "-id")
    return (
        Member.objects.filter(association=association)
        .select_related("profession", "college")
        .annotate(
            sort_name=Lower(Case(When(kind=MemberKind.STRUCTURE, then=F("structure_name")), default=F("last_name"))),
            last_period=Subquery(last.values("period_label")[:1]),
            last_status=Subquery(last.values("status")[:1]),
            last_start=Subquery(last.values("start_date")[:1]),
        )
    )


def member_name(record: Member) -> str:
    return str(ANONYMIZED_LABEL) if record.anonymized_at else record.display_name


def member_activity(record: Member) -> str:
    """Profession (+ specialty) of a person, type of a structure."""
    if record.kind == MemberKind.STRUCTURE:
        return str(STRUCTURE_TYPE_LABELS.get(record.structure_type, _("Structure")))
    if record.profession is None:
        return ""
    if record.specialty:
        return f"{record.profession.label} ({record.specialty})"
    return record.profession.label


class MemberTable(tables.Table):
    select = tables.Column(verbose_name=_("Sélection"), accessor="pk", orderable=False, exclude_from_export=True,
                           attrs={"th": {"class": "text-center"}, "td": {"class": "text-center"}})
    name = tables.Column(verbose_name=_("Nom"), accessor="sort_name", order_by=("sort_name", "first_name", "pk"))
    activity = tables.Column(verbose_name=_("Profession / type"), accessor="pk",
                             order_by=("profession__label", "structure_type", "specialty"))
    college = tables.Column(verbose_name=_("Collège"), accessor="college__name", order_by=("college__name",),
                            default="")
    city = tables.Column(verbose_name=_("Commune"), default="")
    status = tables.Column(verbose_name=_("Statut"))
    email = tables.Column(verbose_name=_("E-mail"), default="")
    last_membership = tables.Column(verbose_name=_("Dernière adhésion"), accessor="last_period",
                                    order_by=("last_start", "pk"), default="")
    rpps = tables.Column(verbose_name=_("RPPS"), default="")
    # Export only (hidden on screen): the data a coordinator needs in a spreadsheet.
    last_name = tables.Column(verbose_name=_("Nom de famille"), visible=False, default="")
    first_name = tables.Column(verbose_name=_("Prénom"), visible=False, default="")
    structure_name = tables.Column(verbose_name=_("Raison sociale"), visible=False, default="")
    kind = tables.Column(verbose_name=_("Type"), visible=False)
    last_membership_status = tables.Column(verbose_name=_("Statut de la dernière adhésion"), accessor="last_status",
                                           visible=False, default="")
    adeli = tables.Column(verbose_name=_("ADELI"), visible=False, default="")
    finess = tables.Column(verbose_name=_("FINESS"), visible=False, default="")
    siret = tables.Column(verbose_name=_("SIRET"), visible=False, default="")
    phone = tables.Column(verbose_name=_("Téléphone"), visible=False, default="")
    address = tables.Column(verbose_name=_("Adresse"), visible=False, default="")
    postal_code = tables.Column(verbose_name=_("Code postal"), visible=False, default="")
    joined_on = tables.DateColumn(verbose_name=_("Date d'adhésion"), format="d/m/Y", visible=False, default="")

    class Meta:
        model = Member
        template_name = "members/_member_table.html"
        fields = ()
        sequence = ("select", "name", "activity", "college", "city", "status", "email", "last_membership", "rpps",
                    "...")
        attrs = {"class": "table table-sm table-hover align-middle bg-white", "id": "member-table"}
        order_by = ("name",)
        empty_text = _("Aucun adhérent ne correspond à ces critères.")

    def __init__(self, *args, association_slug: str, **kwargs):
        self.association_slug = association_slug
        super().__init__(*args, **kwargs)
        if "select" in self.columns.names():
            # "Tout sélectionner" needs JavaScript: the box stays hidden without it, the header keeps a text.
            self.columns["select"].column.verbose_name = format_html(
                '<span class="visually-hidden">{}</span><span hidden>'
                '<input class="form-check-input" type="checkbox" id="select-all">'
                '<label class="visually-hidden" for="select-all">{}</label></span>',
                _("Sélection"), _("Tout sélectionner sur cette page"),
            )

    # Cells of the visible columns, as the template shows them (see templates/members/_member_table.html).
    CELLS = {
        "select": lambda table, record: table.render_select(record),
        "name": lambda table, record: table.render_name(record),
        "activity": lambda table, record: table.render_activity(record),
        "college": lambda table, record: record.college.name if record.college else "",
        "city": lambda table, record: record.city,
        "status": lambda table, record: table.render_status(record),
        "email": lambda table, record: record.email,
        "last_membership": lambda table, record: (
            table.render_last_membership(record.last_period, record) if record.last_period else ""),
        "rpps": lambda table, record: table.render_rpps(record.rpps, record) if record.rpps else "",
    }

    @property
    def html_rows(self):
        """The current page's rows as HTML, in one pass (same cells as the render_* methods)."""
        columns = [(column.name, column.attrs["td"].as_html()) for column in self.columns]
        missing = [name for name, _attrs in columns if name not in self.CELLS]
        if missing:
            raise ImproperlyConfigured(f"MemberTable.CELLS lacks visible column(s) {missing}")
        rows = self.page.object_list if hasattr(self, "page") else self.rows
        for row in rows:
            record = row.record
            yield format_html(
                "<tr>{}</tr>",
                format_html_join("", "<td {}>{}</td>", (
                    (mark_safe(attrs), self.CELLS[name](self, record)) for name, attrs in columns  # noqa: S308
                )),
            )

    # Empty values last in both directions, on SQLite and PostgreSQL alike (PostgreSQL puts NULLs
    # first when sorting descending).
    def _nulls_last(self, queryset, is_descending, field):
        expression = F(field).desc(nulls_last=True) if is_descending else F(field).asc(nulls_last=True)
        return queryset.order_by(expression, "pk"), True

    def order_last_membership(self, queryset, is_descending):
        return self._nulls_last(queryset, is_descending, "last_start")

    def order_college(self, queryset, is_descending):
        return self._nulls_last(queryset, is_descending, "college__name")

    # Selection checkbox (bulk actions): a real label for each box, tied to the bulk form by id.
    def render_select(self, record):
        return format_html(
            '<input class="form-check-input member-select" type="checkbox" name="ids" value="{pk}" '
            'id="select-{pk}" form="bulk-form">'
            '<label class="visually-hidden" for="select-{pk}">{label} {name}</label>',
            pk=record.pk, label=_("Sélectionner"), name=member_name(record),
        )

    def render_name(self, record):
        url = reverse("member_detail", kwargs={"association_slug": self.association_slug, "pk": record.pk})
        if record.anonymized_at:
            return format_html('<a href="{}" class="fst-italic">{}</a>', url, ANONYMIZED_LABEL)
        return format_html('<a href="{}">{}</a>', url, record.display_name)

    def value_name(self, record):
        return member_name(record)

    def render_activity(self, record):
        return member_activity(record) or "—"

    def value_activity(self, record):
        return member_activity(record)

    def render_status(self, record):
        if record.anonymized_at:
            return format_html('<span class="badge text-bg-light border">{}</span>', _("Anonymisé"))
        return format_html('<span class="badge {}">{}</span>', MEMBER_STATUS_BADGES.get(record.status, ""),
                           MEMBER_STATUS_LABELS.get(record.status, record.status))

    def value_status(self, record):
        return str(_("Anonymisé")) if record.anonymized_at else str(MEMBER_STATUS_LABELS.get(record.status, ""))

    def render_last_membership(self, value, record):
        return format_html(
            '{} <span class="badge {}">{}</span>', value,
            MEMBERSHIP_STATUS_BADGES.get(record.last_status, "text-bg-light"),
            MEMBERSHIP_STATUS_LABELS.get(record.last_status, record.last_status),
        )

    def value_last_membership(self, value, record):
        return value or ""

    def value_last_membership_status(self, value, record):
        return str(MEMBERSHIP_STATUS_LABELS.get(value, value)) if value else ""

    def render_rpps(self, value, record):
        if record.rpps_warning:
            return format_html(
                '{} <i class="bi bi-exclamation-triangle-fill text-warning" role="img" aria-label="{}" title="{}">'
                "</i>", value, record.rpps_warning, record.rpps_warning,
            )
        return value

    def value_rpps(self, value, record):
        return value

    def value_kind(self, record):
        return str(dict(MemberKind.choices).get(record.kind, record.kind))
