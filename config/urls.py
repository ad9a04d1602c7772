"""URL routes: web pages, the admin, and the REST API under /api/ (see api.urls)."""

from django.contrib import admin
from django.urls import include, path

from qi import views

admin.site.site_header = "QI Tracker administration"
admin.site.site_title = "QI Tracker"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("measures/<int:pk>/", views.measure_detail, name="measure_detail"),
    path("measures/<int:pk>/chart.svg", views.measure_chart_svg, name="measure_chart_svg"),
    path("measures/<int:pk>/import/", views.measure_import, name="measure_import"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]
