"""Routes of the REST API under /api/, its OpenAPI schema and its documentation page."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from zonewarden.api import views
from zonewarden.api.ingests import IngestViewSet

router = DefaultRouter()
router.register("ingests", IngestViewSet, basename="ingest")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("cases", views.CaseViewSet, basename="case")
router.register("notices", views.NoticeViewSet, basename="notice")
router.register("checks", views.CheckViewSet, basename="check")
router.register("requests", views.RequestViewSet, basename="request")
router.register("request-items", views.ItemViewSet, basename="request-item")
router.register("registrar-reports", views.ReportViewSet, basename="registrar-report")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("stats/", views.StatsView.as_view(), name="stats"),
    *router.urls,
]
