"""URLs of the employee list, details and case-manager assignments."""

from django.urls import path

from employees import views

app_name = "employees"
urlpatterns = [
    path("", views.employee_list, name="list"),
    path("<uuid:key>/", views.employee_detail, name="detail"),
    path("<uuid:key>/case-managers/", views.case_manager_add, name="case_manager_add"),
    path(
        "<uuid:key>/case-managers/<uuid:user_key>/remove/",
        views.case_manager_remove,
        name="case_manager_remove",
    ),
]
