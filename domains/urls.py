"""URLs of the functional admin's screens: roles, users, approvals, employers and their
departments, service providers and contracts, tenant settings and SMS costs."""

from django.urls import path

from domains import views

app_name = "domains"
urlpatterns = [
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_edit, name="role_create"),
    path("roles/<uuid:key>/", views.role_edit, name="role_edit"),
    path("roles/<uuid:key>/compare/", views.role_compare, name="role_compare"),
    path("roles/<uuid:key>/remove/", views.role_remove, name="role_remove"),
    path("roles/<uuid:key>/archive/", views.role_archive, name="role_archive"),
    path("role-matrix/", views.role_matrix, name="role_matrix"),
    path("roles/export.csv", views.roles_export_csv, name="roles_export_csv"),
    path("roles/export.xlsx", views.roles_export_xlsx, name="roles_export_xlsx"),
    path("users/", views.user_list, name="user_list"),
    path("users/<uuid:key>/", views.user_detail, name="user_detail"),
    path("users/<uuid:key>/roles/", views.user_assign_role, name="user_assign_role"),
    path("users/<uuid:key>/big/", views.user_set_big_number, name="user_set_big_number"),
    path("users/<uuid:key>/end/", views.user_set_account_end, name="user_set_account_end"),
    path("users/<uuid:key>/reset-factors/", views.user_reset_factors, name="user_reset_factors"),
    path("users/<uuid:key>/block/", views.user_block, name="user_block"),
    path("users/<uuid:key>/unblock/", views.user_unblock, name="user_unblock"),
    path("assignments/<uuid:key>/remove/", views.assignment_remove, name="assignment_remove"),
    path("approvals/", views.approval_list, name="approval_list"),
    path("approvals/<uuid:key>/", views.approval_decide, name="approval_decide"),
    path("approvals/accounts/<uuid:key>/", views.account_decide, name="account_decide"),
    path("providers/", views.provider_list, name="provider_list"),
    path("providers/new/", views.provider_add, name="provider_add"),
    path("contracts/new/", views.contract_add, name="contract_add"),
    path("contracts/<uuid:key>/", views.contract_edit, name="contract_edit"),
    path("contracts/<uuid:key>/end/", views.contract_end, name="contract_end"),
    path("employers/", views.employer_list, name="employer_list"),
    path("employers/new/", views.employer_edit, name="employer_create"),
    path("employers/<uuid:key>/", views.employer_edit, name="employer_edit"),
    path("employers/<uuid:key>/departments/", views.department_list, name="department_list"),
    path("employers/<uuid:key>/departments/new/", views.department_add, name="department_add"),
    path("departments/<uuid:key>/", views.department_detail, name="department_detail"),
    path("departments/<uuid:key>/rename/", views.department_rename, name="department_rename"),
    path("departments/<uuid:key>/move/", views.department_move, name="department_move"),
    path("departments/<uuid:key>/close/", views.department_close, name="department_close"),
    path("settings/", views.tenant_settings, name="tenant_settings"),
    path("sms-costs/", views.sms_costs, name="sms_costs"),
    path("sms-costs/export.csv", views.sms_costs_csv, name="sms_costs_csv"),
]
