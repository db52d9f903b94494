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
    path("select/", views.select, name="select"),
    path("review/", views.review, name="review"),
    path("deletions/", views.deletions, name="deletions"),
    path("deletions/<uuid:key>/", views.deletion_detail, name="deletion"),
    path("deletions/<uuid:key>/decide/", views.deletion_decide, name="deletion_decide"),
    path("deletions/<uuid:key>/progress/", views.deletion_progress, name="deletion_progress"),
    path("deletions/<uuid:key>/report.csv", views.deletion_report, name="deletion_report"),
]
