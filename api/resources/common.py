"""Pieces every resource module shares: people and departments as clients see them, scoped relation fields,
and the mixin of viewsets that write through ``qi.services``.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response

from api.conditional import conditional_response
from qi.models import Department, Project, User


class PersonSerializer(serializers.Serializer):
    """A person as other people see them: no e-mail, no GMC number."""

    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class DepartmentSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class SameOrganisationField(serializers.PrimaryKeyRelatedField):
    """A related id that resolves only inside the requesting user's organisation.

    An id from another trust reads as "does not exist", so the API never confirms it does.
    """

    def get_queryset(self):
        user = self.context["request"].user
        return super().get_queryset().filter(**{self.organisation_lookup: user.organisation_id})


class ColleagueField(SameOrganisationField):
    organisation_lookup = "organisation_id"

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.filter(is_active=True), **kwargs)


class DepartmentField(SameOrganisationField):
    organisation_lookup = "organisation_id"

    def __init__(self, **kwargs):
        super().__init__(queryset=Department.objects.all(), **kwargs)


class VisibleProjectField(serializers.PrimaryKeyRelatedField):
    """A project id that resolves only among projects the user sees: any other reads as "does not exist"."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Project.objects.all(), **kwargs)

    def get_queryset(self):
        return Project.objects.visible_to(self.context["request"].user)


class ServiceWriteMixin:
    """What a viewset whose writes call ``qi.services`` needs: parsed input, and the fresh object as a reply."""

    def _input(self, serializer_class, **kwargs) -> dict:
        """Validate the request body with an input serializer; a bad body is a 400 naming each field."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _fresh(self, instance, http_status: int = status.HTTP_200_OK) -> Response:
        """Answer with the object as the list shows it (annotations included), with its ETag."""
        instance = self.get_queryset().get(pk=instance.pk)
        return conditional_response(self.request, self.get_serializer(instance).data, http_status=http_status)
