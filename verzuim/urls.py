from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from auth2fa.middleware import second_factor_exempt
from verzuim import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health/", views.health, name="health"),
    path(
        "i18n/setlang/", login_not_required(second_factor_exempt(set_language)), name="set_language"
    ),
    path("", include("auth2fa.urls")),
    path("employees/", include("employees.urls")),
    path("cases/", include("cases.urls")),
    path("manage/", include("domains.urls")),
    path("audit/", include("audit.urls")),
]
