"""Routes of the REST API: /api/v1/ (resources and device auth), the OpenAPI schema and its two viewers."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api import auth
from api.resources import inbox, library, measures, milestones, pdsa, people, projects

RESOURCE_MODULES = (projects, milestones, pdsa, measures, people, inbox, library)

router = DefaultRouter()
for module in RESOURCE_MODULES:
    module.register(router)

auth_patterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("logout-everywhere/", auth.LogoutEverywhereView.as_view(), name="logout-everywhere"),
    path("devices/", auth.DeviceListView.as_view(), name="devices"),
    path("devices/<str:token_id>/", auth.DeviceDetailView.as_view(), name="device"),
]

app_name = "api"
urlpatterns = [
    path("v1/auth/", include(auth_patterns)),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
