"""URLs of the retention screens."""

from django.urls import path

from retention import views

app_name = "retention"
urlpatterns = [
    path("policy/", views.policy, name="policy"),
    path("", views.overview, name="overview"),
    path("employees/<uuid:key>/", views.employee_detail, name="employee"),
    path("employees/<uuid:key>/holds/", views.holds, name="holds"),
    path("holds/<uuid:key>/lift/", views.hold_lift, name="hold_lift"),
]
