"""URL routes: the admin for now; the parties' pages grow here."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "zonewarden"
admin.site.site_title = "zonewarden"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("zonewarden.api.urls")),
]
