"""Routes of the REST API under /api/."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from zonewarden.api.ingests import IngestViewSet

router = DefaultRouter()
router.register("ingests", IngestViewSet, basename="ingest")

urlpatterns = router.urls
