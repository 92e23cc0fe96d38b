"""The models of the ``associations`` app, one module per feature; this package only re-exports them.

``tenant`` holds the tenant itself (Association), users, staff roles, invitations and ``TenantModel``,
the base of every tenant-owned model; the feature modules import from it, never the reverse.
"""

from associations.models.audit import AuditLog
from associations.models.campaigns import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    MailKind,
    MailStatus,
    OutgoingMail,
    ReminderSchedule,
)
from associations.models.imports import ImportJob
from associations.models.membership import (
    ApplicationStatus,
    AssociationDocument,
    Civility,
    College,
    DocumentKind,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    Payment,
    PaymentMethod,
    PracticeMode,
    Profession,
    StructureType,
    Tariff,
    TariffCategory,
)
from associations.models.system import WorkerHeartbeat
from associations.models.tenant import (
    ACISize,
    Association,
    Invitation,
    Role,
    TenantModel,
    User,
    UserManager,
    UserRole,
    aci_size_for,
)

__all__ = [
    "ACISize", "ApplicationStatus", "Association", "AssociationDocument", "AuditLog", "Campaign", "CampaignKind",
    "CampaignStatus", "Civility", "College", "DocumentKind", "ImportJob", "Invitation", "MailKind", "MailStatus",
    "Member", "MemberKind", "MemberStatus", "Membership", "MembershipStatus", "OutgoingMail", "Payment",
    "PaymentMethod", "PracticeMode", "Profession", "ReminderSchedule", "Role", "StructureType", "Tariff",
    "TariffCategory", "TenantModel", "User", "UserManager", "UserRole", "WorkerHeartbeat", "aci_size_for",
]
