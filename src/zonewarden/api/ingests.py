"""The API of intake: upload a feed file as `zonewarden ingest` takes it, and read the ingest records."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from zonewarden.cases.workflow import actor_label
from zonewarden.intake.feeds import FORMATS
from zonewarden.intake.ingest import IngestRefused, ingest_bytes
from zonewarden.intake.models import Ingest


class IngestSerializer(serializers.ModelSerializer[Ingest]):
    class Meta:
        model = Ingest
        fields = [
            "id",
            "file_name",
            "sha256",
            "size",
            "format",
            "source",
            "counts",
            "rejected_total",
            "rejected_rows",
            "actor",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=sorted(FORMATS), required=False)
    source = serializers.CharField(max_length=64, required=False)  # type: ignore[assignment]


class IngestPermission(permissions.DjangoModelPermissions):
    """Reading ingests needs the view permission, uploading the add permission."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class IngestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Ingest]):
    """Feed files taken in; POST a file (multipart: file, format, source) to take one in."""

    queryset = Ingest.objects.all()
    serializer_class = IngestSerializer
    permission_classes = [IngestPermission]
    parser_classes = [MultiPartParser, FormParser]

    def create(self, request: Request) -> Response:
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        handle = upload.validated_data["file"]
        limit = settings.ZONEWARDEN_INGEST_MAX_BYTES
        if handle.size > limit:
            return Response(
                {"file": [f"larger than the limit of {limit} bytes"]}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            report = ingest_bytes(
                handle.read(),
                file_name=handle.name or "upload",
                actor=actor_label(request.user),
                fmt=upload.validated_data.get("format"),
                source=upload.validated_data.get("source"),
                parallel=False,  # no forking inside a threaded web server
            )
        except IngestRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(report.as_json(), status=status.HTTP_201_CREATED)
