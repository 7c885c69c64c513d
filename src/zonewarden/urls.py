"""URL routes: the admin for now; the parties' pages grow here."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from zonewarden.cases.views import owner_case, suspended
from zonewarden.notices import views as notice_views

admin.site.site_header = "zonewarden"
admin.site.site_title = "zonewarden"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("zonewarden.api.urls")),
    path("owner/<str:token>/", owner_case, name="owner-case"),
    path("suspended/", suspended, name="suspended"),
    path("mail/", notice_views.sink_list, name="sink"),
    path("mail/<int:pk>/", notice_views.sink_message, name="sink-message"),
]
