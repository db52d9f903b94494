"""The project's URLs: each app's URLs under its prefix, plus the dashboard and health check."""

from django.urls import include, path
from django.views.i18n import set_language

from core.gate import public
from verzuim import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health/", views.health, name="health"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("", include("auth2fa.urls")),
    path("employees/", include("employees.urls")),
    path("cases/", include("cases.urls")),
    path("imports/", include("imports.urls")),
    path("manage/", include("domains.urls")),
    path("retention/", include("retention.urls")),
    path("reports/", include("reports.urls")),
    path("audit/", include("audit.urls")),
]
