"""The REST API beyond intake: incidents, cases and their events, notices, checks, registry requests,
registrar reports, statistics. Every queryset comes from zonewarden.access, narrowed to the caller."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from zonewarden import access, clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, CaseEvent, State
from zonewarden.checks.models import Check
from zonewarden.intake.ingest import ingest_bytes
from zonewarden.intake.models import Incident
from zonewarden.notices.models import Notice
from zonewarden.registry.models import RegistrarReport, RegistryRequest, RequestItem
from zonewarden.registry.service import RequestError, build_request, decide, file_registrar_report


class IncidentSerializer(serializers.ModelSerializer[Incident]):
    class Meta:
        model = Incident
        fields = [
            "id",
            "domain",
            "url",
            "category",
            "status",
            "sources",
            "first_seen",
            "last_seen",
            "evidence",
            "case",
        ]
        read_only_fields = fields


class IncidentCreateSerializer(serializers.Serializer[dict[str, Any]]):
    url = serializers.CharField(max_length=4096)
    category = serializers.ChoiceField(choices=["phishing", "malware", "defacement", "compromised", "other"])
    first_seen = serializers.DateTimeField(required=False)
    source = serializers.CharField(max_length=64, required=False, default="api")  # type: ignore[assignment]


class CaseSerializer(serializers.ModelSerializer[Case]):
    grounds: Any = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Case
        fields = [
            "id",
            "domain",
            "state",
            "grounds",
            "opened_at",
            "notices_sent",
            "last_notice_at",
            "owner_deadline",
            "escalation_due_at",
            "escalated_at",
            "registry_deadline",
            "registry_late",
            "suspended_at",
            "registrar_deadline",
            "registrar_late",
            "fix_verified_at",
            "closed_at",
            "next_due_at",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer[CaseEvent]):
    class Meta:
        model = CaseEvent
        fields = [
            "seq",
            "case",
            "actor",
            "action",
            "grounds",
            "at",
            "state_before",
            "state_after",
            "detail",
            "hash",
        ]
        read_only_fields = fields


class NoticeSerializer(serializers.ModelSerializer[Notice]):
    class Meta:
        model = Notice
        fields = [
            "id",
            "case",
            "kind",
            "number",
            "recipients",
            "languages",
            "subject",
            "message_id",
            "deadline",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class CheckSerializer(serializers.ModelSerializer[Check]):
    class Meta:
        model = Check
        fields = [
            "id",
            "incident",
            "url",
            "purpose",
            "at",
            "final_url",
            "redirects",
            "status",
            "content_type",
            "body_size",
            "body_sha256",
            "title",
            "credential_form",
            "addresses",
            "verdict",
            "reason",
        ]
        read_only_fields = fields


class ItemSerializer(serializers.ModelSerializer[RequestItem]):
    outcome = serializers.ChoiceField(
        choices=RequestItem.Outcome.choices, allow_blank=True, read_only=True, help_text="empty while open"
    )

    class Meta:
        model = RequestItem
        fields = [
            "id",
            "case",
            "domain",
            "received_at",
            "deadline",
            "outcome",
            "reason",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class RequestSerializer(serializers.ModelSerializer[RegistryRequest]):
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = RegistryRequest
        fields = ["id", "kind", "number", "created_at", "created_by", "pdf_sha256", "docx_sha256", "items"]
        read_only_fields = fields


class ReportSerializer(serializers.ModelSerializer[RegistrarReport]):
    class Meta:
        model = RegistrarReport
        fields = ["id", "case", "registrar", "text", "filed_by", "filed_at", "late"]
        read_only_fields = ["id", "registrar", "filed_by", "filed_at", "late"]


class IncidentFilter(filters.FilterSet):
    class Meta:
        model = Incident
        fields = {
            "status": ["exact"],
            "category": ["exact"],
            "domain": ["exact"],
            "case": ["exact"],
            "first_seen": ["gte", "lte"],
        }


class CaseFilter(filters.FilterSet):
    class Meta:
        model = Case
        fields = {
            "state": ["exact"],
            "domain": ["exact"],
            "registry_late": ["exact"],
            "registrar_late": ["exact"],
            "opened_at": ["gte", "lte"],
        }


class ModelPermission(permissions.DjangoModelPermissions):
    """Reading needs the model's view permission, writing its add/change permission."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Incident],
):
    """Incidents; POST one URL to report it as `zonewarden ingest` would (source "api" by default)."""

    serializer_class = IncidentSerializer
    permission_classes = [ModelPermission]
    filterset_class = IncidentFilter
    queryset = Incident.objects.none()

    def get_queryset(self) -> QuerySet[Incident]:
        return (
            access.incidents_for(self.request.user).select_related("category").order_by("-last_seen", "-pk")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return IncidentCreateSerializer if self.action == "create" else IncidentSerializer

    @extend_schema(
        request=IncidentCreateSerializer,
        responses={201: inline_serializer("IngestCounts", {"new": serializers.IntegerField()})},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = IncidentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        first_seen = values.get("first_seen")
        line = ",".join(
            [
                _csv(values["url"]),
                values["category"],
                first_seen.isoformat() if first_seen else "",
                _csv(values["source"]),
            ]
        )
        report = ingest_bytes(
            f"url,category,first_seen,source\n{line}\n".encode(),
            file_name="api",
            actor=workflow.actor_label(request.user),
            fmt="csv",
            source=values["source"],
            parallel=False,
        )
        if report.rejected:
            raise ValidationError({"url": [row["reason"] for row in report.rejected_rows]})
        return Response(report.as_json(), status=status.HTTP_201_CREATED)


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class CaseViewSet(viewsets.ReadOnlyModelViewSet[Case]):
    """Cases the caller may see; `/events/` is a case's timeline."""

    serializer_class = CaseSerializer
    permission_classes = [ModelPermission]
    filterset_class = CaseFilter
    queryset = Case.objects.none()

    def get_queryset(self) -> QuerySet[Case]:
        return access.cases_for(self.request.user).prefetch_related("grounds").order_by("-opened_at", "-pk")

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        events: Any = CaseEvent.objects.filter(case=case).order_by("seq")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)


class NoticeViewSet(viewsets.ReadOnlyModelViewSet[Notice]):
    serializer_class = NoticeSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["state", "kind", "case"]
    queryset = Notice.objects.none()

    def get_queryset(self) -> QuerySet[Notice]:
        return access.notices_for(self.request.user).order_by("-created_at", "-pk")


class CheckViewSet(viewsets.ReadOnlyModelViewSet[Check]):
    serializer_class = CheckSerializer
    permission_classes = [ModelPermission]
    filterset_fields = ["verdict", "purpose", "incident"]
    queryset = Check.objects.none()

    def get_queryset(self) -> QuerySet[Check]:
        return access.checks_for(self.request.user).order_by("-at", "-pk")


class RequestCreateSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=RegistryRequest.Kind.choices)
    cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=5000
    )


class DecisionSerializer(serializers.Serializer[dict[str, Any]]):
    outcome = serializers.ChoiceField(choices=RequestItem.Outcome.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[RegistryRequest]):
    """Escalation and restoration requests with their items. POST {kind, cases} builds one numbered
    letter (as the escalation builder page does); cases that do not qualify refuse the whole request."""

    serializer_class = RequestSerializer
    permission_classes = [ModelPermission]
    filterset_fields = ["kind"]
    queryset = RegistryRequest.objects.none()

    def get_queryset(self) -> QuerySet[RegistryRequest]:
        requests = RegistryRequest.objects.prefetch_related("items").order_by("-created_at", "-pk")
        return requests if access.sees_registry_requests(self.request.user) else requests.none()

    @extend_schema(request=RequestCreateSerializer, responses={201: RequestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = RequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = sorted(set(data.validated_data["cases"]))
        cases = list(access.cases_for(request.user).filter(pk__in=wanted).order_by("pk"))
        missing = sorted(set(wanted) - {case.pk for case in cases})
        if missing:
            raise ValidationError({"cases": [f"there is no case {', '.join(map(str, missing[:20]))}"]})
        try:
            built = build_request(data.validated_data["kind"], cases, actor=request.user)
        except RequestError as exc:
            raise ValidationError({"cases": [str(exc)]}) from exc
        return Response(RequestSerializer(built).data, status=status.HTTP_201_CREATED)


class ItemFilter(filters.FilterSet):
    open = filters.BooleanFilter(field_name="outcome", lookup_expr="exact", method="open_only")
    kind = filters.ChoiceFilter(field_name="request__kind", choices=RegistryRequest.Kind.choices)

    class Meta:
        model = RequestItem
        fields = ["outcome", "case", "domain"]

    def open_only(self, queryset: QuerySet[RequestItem], name: str, value: bool) -> QuerySet[RequestItem]:
        return queryset.filter(outcome="") if value else queryset.exclude(outcome="")


class ItemViewSet(viewsets.ReadOnlyModelViewSet[RequestItem]):
    """The registry's queue: one name of a request each, oldest deadline first (`?open=true`).
    POST `/decide/` records the registry's decision, once."""

    serializer_class = ItemSerializer
    permission_classes = [ModelPermission]
    filterset_class = ItemFilter
    queryset = RequestItem.objects.none()

    def get_queryset(self) -> QuerySet[RequestItem]:
        items = RequestItem.objects.select_related("request").order_by("deadline", "pk")
        return items if access.sees_registry_requests(self.request.user) else items.none()

    @extend_schema(request=DecisionSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        if not access.may(request.user, "registry.change_requestitem"):
            raise PermissionDenied("only the registry decides on its requests")
        item = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            decided = decide(
                item, data.validated_data["outcome"], actor=request.user, reason=data.validated_data["reason"]
            )
        except RequestError as exc:
            raise ValidationError({"outcome": [str(exc)]}) from exc
        return Response(ItemSerializer(decided).data)


class ReportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[RegistrarReport]):
    """Registrars' reports; a registrar user files one for its own suspended name."""

    serializer_class = ReportSerializer
    permission_classes = [ModelPermission]
    queryset = RegistrarReport.objects.none()

    def get_queryset(self) -> QuerySet[RegistrarReport]:
        return RegistrarReport.objects.filter(case__in=access.cases_for(self.request.user)).order_by(
            "-filed_at", "-pk"
        )

    def perform_create(self, serializer: serializers.BaseSerializer[RegistrarReport]) -> None:
        case = serializer.validated_data["case"]
        if not access.cases_for(self.request.user).filter(pk=case.pk).exists():
            raise PermissionDenied("this case is not one of your registrar's suspended names")
        try:
            serializer.instance = file_registrar_report(
                case, text=serializer.validated_data["text"], actor=self.request.user
            )
        except RequestError as exc:
            raise ValidationError({"case": [str(exc)]}) from exc

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        serializer = super().get_serializer(*args, **kwargs)
        if isinstance(serializer, ReportSerializer) and "case" in serializer.fields:
            field = serializer.fields["case"]
            if isinstance(field, serializers.PrimaryKeyRelatedField):
                field.queryset = access.cases_for(self.request.user)
        return serializer


class StatsView(APIView):
    """Counts for the dashboard: cases by state, incidents by category, due and late today."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "Stats",
            {
                "cases_by_state": serializers.DictField(child=serializers.IntegerField()),
                "incidents_by_category": serializers.DictField(child=serializers.IntegerField()),
                "due_now": serializers.IntegerField(),
                "registry_late": serializers.IntegerField(),
                "registrar_late": serializers.IntegerField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        cases = access.cases_for(request.user)
        incidents = access.incidents_for(request.user)
        now = clock.now()
        return Response(
            {
                "cases_by_state": {
                    row["state"]: row["n"] for row in cases.values("state").annotate(n=Count("pk")).order_by()
                },
                "incidents_by_category": {
                    row["category"]: row["n"]
                    for row in incidents.values("category").annotate(n=Count("pk")).order_by()
                },
                "due_now": cases.filter(next_due_at__lte=now).count(),
                "registry_late": cases.filter(
                    registry_late=True, state__in=[State.ESCALATED, State.RESTORATION_REQUESTED]
                ).count(),
                "registrar_late": cases.filter(registrar_late=True, state=State.SUSPENDED).count(),
            }
        )
