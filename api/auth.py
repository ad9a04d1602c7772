"""Device log-in for mobile clients: a knox token per device, stored hashed, expiring, revocable.

POST /api/v1/auth/login/ with e-mail, password and a device name returns the token once; the
server keeps only its hash. Tokens expire after ``API_TOKEN_IDLE_HOURS`` unused and
``API_TOKEN_MAX_DAYS`` after log-in. A person can list their devices, revoke one, log out the
current one or log out everywhere.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, user_logged_in, user_logged_out
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.models import DeviceToken
from api.throttles import LoginThrottle


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown only once.")
    expiry = serializers.DateTimeField(help_text="When the token expires if unused; each use extends it.")
    user = UserSummarySerializer()


class DeviceSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="token_key", help_text="The token's first characters; not the token.")
    current = serializers.SerializerMethodField()

    class Meta:
        model = DeviceToken
        fields = ["id", "device_name", "created", "expiry", "current"]

    def get_current(self, token: DeviceToken) -> bool:
        return token.digest == getattr(self.context["request"].auth, "digest", None)


def _live_tokens(user):
    return DeviceToken.objects.filter(user=user).filter(Q(expiry__gt=timezone.now()) | Q(expiry__isnull=True))


class LoginView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginThrottle,)

    @extend_schema(
        tags=["auth"],
        summary="Log in a device",
        request=LoginSerializer,
        responses={200: TokenSerializer, 400: OpenApiResponse(description="Wrong e-mail or password.")},
        auth=[],
        examples=[
            OpenApiExample(
                "Log in",
                value={"email": "alice.fy1@riverside.example", "password": "…", "device_name": "Alice's iPhone"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["email"], password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise ValidationError({"non_field_errors": ["Wrong e-mail address or password."]}, code="login_failed")
        if _live_tokens(user).count() >= knox_settings.TOKEN_LIMIT_PER_USER:
            raise ValidationError(
                {"non_field_errors": ["Too many devices are logged in: log out of one (or everywhere) first."]},
                code="too_many_devices",
            )
        instance, token = DeviceToken.objects.create(
            user=user, expiry=knox_settings.TOKEN_TTL, device_name=data.validated_data["device_name"].strip()
        )
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        body = {"token": token, "expiry": instance.expiry, "user": user}
        return Response(TokenSerializer(body).data)


class LogoutView(APIView):
    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["auth"], summary="Log out this device (revoke the token sent)", request=None, responses={204: None}
    )
    def post(self, request):
        request.auth.delete()
        user_logged_out.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutEverywhereView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["auth"], summary="Log out everywhere (revoke every device token)", request=None, responses={204: None}
    )
    def post(self, request):
        DeviceToken.objects.filter(user=request.user).delete()
        user_logged_out.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(tags=["auth"], summary="List my logged-in devices", responses=DeviceSerializer(many=True))
    def get(self, request):
        tokens = _live_tokens(request.user)
        return Response(DeviceSerializer(tokens, many=True, context={"request": request}).data)


class DeviceDetailView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(tags=["auth"], summary="Revoke one device's token", responses={204: None})
    def delete(self, request, token_id: str):
        deleted, _ = DeviceToken.objects.filter(user=request.user, token_key=token_id).delete()
        if not deleted:
            raise NotFound("No such device.")
        return Response(status=status.HTTP_204_NO_CONTENT)
