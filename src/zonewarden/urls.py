"""URL routes: the admin for now; the parties' pages grow here."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path

from zonewarden import pages
from zonewarden.cases.views import owner_case, suspended
from zonewarden.notices import views as notice_views

admin.site.site_header = "zonewarden"
admin.site.site_title = "zonewarden"

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", LoginView.as_view(template_name="pages/login.html"), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("incidents/", pages.incidents, name="incidents"),
    path("cases/", pages.cases, name="cases"),
    path("cases/<int:pk>/", pages.case_page, name="case"),
    path("registry/", pages.registry_queue, name="registry-queue"),
    path("registrar/", pages.registrar_names, name="registrar-names"),
    path("admin/", admin.site.urls),
    path("api/", include("zonewarden.api.urls")),
    path("owner/<str:token>/", owner_case, name="owner-case"),
    path("suspended/", suspended, name="suspended"),
    path("mail/", notice_views.sink_list, name="sink"),
    path("mail/<int:pk>/", notice_views.sink_message, name="sink-message"),
]
