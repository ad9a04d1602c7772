"""Notifications: my own in-app messages, marking one or all of them read. Someone else's is a 404."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.conditional import ConditionalRetrieveMixin, conditional_response
from api.filters import SyncFilterSet
from notifications.models import Kind, Notification


class NotificationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    project = serializers.IntegerField(source="project_id", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "project", "created_at", "read_at", "updated_at"]
        read_only_fields = fields


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and are now read.")


class NotificationFilter(SyncFilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", help_text="true: unread only.")

    class Meta:
        model = Notification
        fields = ["unread"]


@extend_schema_view(
    list=extend_schema(summary="List my notifications, newest first"),
    retrieve=extend_schema(summary="Read a notification"),
)
@extend_schema(tags=["notifications"])
class NotificationViewSet(
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Notification.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "updated_at"]
    ordering = ("-created_at", "-id")  # an inbox: a notification keeps its place when it is read

    def get_queryset(self):
        return Notification.objects.for_user(self.request.user)

    @extend_schema(summary="Mark a notification read", request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        # Conditional: reading it again keeps the time it was first read.
        self.get_queryset().filter(pk=notification.pk).mark_read()
        notification.refresh_from_db()
        return conditional_response(request, NotificationSerializer(notification).data)

    @extend_schema(summary="Mark all my notifications read", request=None, responses=MarkedSerializer, filters=False)
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[])
    def read_all(self, request):
        return Response({"marked": self.get_queryset().mark_read()})


def register(router) -> None:
    router.register("notifications", NotificationViewSet, basename="notification")
