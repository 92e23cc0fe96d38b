"""URL patterns of this membership screen (filled in with the feature)."""

urlpatterns: list = []
