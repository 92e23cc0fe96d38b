"""URLs of one association, mounted under /a/<association_slug>/ (the tenant middleware resolves it)."""

from django.urls import include, path

from associations import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("equipe/", views.team, name="team"),
    path("equipe/inviter/", views.invitation_create, name="invitation_create"),
    path("equipe/invitations/<int:pk>/renvoyer/", views.invitation_resend, name="invitation_resend"),
    path("equipe/invitations/<int:pk>/revoquer/", views.invitation_revoke, name="invitation_revoke"),
    path("equipe/roles/<int:pk>/retirer/", views.role_remove, name="role_remove"),
    path("equipe/roles/<int:pk>/modifier/", views.role_change, name="role_change"),
    path("journal/", views.audit_log, name="audit_log"),
    path("parametres/", views.association_settings, name="association_settings"),
    path("logo/", views.association_logo, name="association_logo"),
    path("adherents/", include("associations.membership.urls_directory")),
    path("adhesions/", include("associations.membership.urls_admin")),
    path("adherents/import/", include("associations.imports.urls")),
    path("mon-adhesion/", include("associations.membership.urls_space")),
    path("campagnes/", include("associations.campaigns.urls")),
    path("relances/", include("associations.campaigns.urls_reminders")),
]
