"""URLs of the retention screens."""

from django.urls import path

from retention import views

app_name = "retention"
urlpatterns = [
    path("policy/", views.policy, name="policy"),
]
