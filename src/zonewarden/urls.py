"""URL routes: the parties' pages, the public transparency page, the owner's link, the API, the admin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path, re_path

from zonewarden import health, pages
from zonewarden.cases.views import owner_case, suspended
from zonewarden.notices import views as notice_views
from zonewarden.registry import pages as registry_pages

admin.site.site_header = "zonewarden"
admin.site.site_title = "zonewarden"

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", health.metrics, name="metrics"),
    path("login/", LoginView.as_view(template_name="pages/login.html"), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("incidents/", pages.incidents, name="incidents"),
    path("cases/", pages.cases, name="cases"),
    path("cases/<int:pk>/", pages.case_page, name="case"),
    path("escalation/", registry_pages.escalation, name="escalation"),
    path("requests/<int:pk>/", registry_pages.request_page, name="request"),
    re_path(
        r"^requests/(?P<pk>[0-9]+)/letter\.(?P<fmt>pdf|docx)$",
        registry_pages.request_letter,
        name="request-letter",
    ),
    path("registry/", registry_pages.registry_queue, name="registry-queue"),
    path("registry/restoration/", registry_pages.restoration_queue, name="restoration-queue"),
    path("registry/reports/", registry_pages.registrar_reports, name="registrar-reports"),
    path("registrar/", registry_pages.registrar_names, name="registrar-names"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("zonewarden.api.urls")),
    path("owner/<str:token>/", owner_case, name="owner-case"),
    path("suspended/", suspended, name="suspended"),
    path("mail/", notice_views.sink_list, name="sink"),
    path("mail/<int:pk>/", notice_views.sink_message, name="sink-message"),
]
