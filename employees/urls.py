"""URLs of the employee list, details and case-manager assignments."""

from django.urls import path

from employees import views

app_name = "employees"
urlpatterns = [
    path("", views.employee_list, name="list"),
    path("new/", views.employee_create, name="create"),
    path("export.csv", views.employee_export_csv, name="export_csv"),
    path("export.xlsx", views.employee_export_xlsx, name="export_xlsx"),
    path("<uuid:key>/", views.employee_detail, name="detail"),
    path("<uuid:key>/edit/", views.employee_edit, name="edit"),
    path("<uuid:key>/end/", views.employee_end, name="end"),
    path("<uuid:key>/bsn/", views.employee_reveal_bsn, name="reveal_bsn"),
    path("<uuid:key>/case-managers/", views.case_manager_add, name="case_manager_add"),
    path(
        "<uuid:key>/case-managers/<uuid:user_key>/remove/",
        views.case_manager_remove,
        name="case_manager_remove",
    ),
]
