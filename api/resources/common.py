"""Pieces every resource module shares: people and departments as clients see them, scoped relation fields."""

from __future__ import annotations

from rest_framework import serializers

from qi.models import Department, User


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
