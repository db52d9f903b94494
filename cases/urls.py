"""URLs of absence cases and their documents."""

from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("worklist/", views.worklist, name="worklist"),
    path("report/<uuid:key>/", views.report_sick, name="report_sick"),
    path("<uuid:key>/", views.case_detail, name="detail"),
    path("<uuid:key>/recovery/", views.report_recovery, name="recovery"),
    path("<uuid:key>/correct/", views.correct_case, name="correct"),
    path(
        "<uuid:key>/steps/<uuid:milestone_key>/done/",
        views.complete_milestone,
        name="milestone_done",
    ),
    path("<uuid:key>/notes/", views.add_note, name="add_note"),
    path("<uuid:key>/documents/", views.add_document, name="add_document"),
    path("<uuid:key>/documents/<uuid:document_key>/", views.download_document, name="document"),
    path("<uuid:key>/medical/", views.medical_file, name="medical"),
    path("<uuid:key>/medical/documents/", views.add_medical_document, name="add_medical_document"),
    path(
        "<uuid:key>/medical/documents/<uuid:document_key>/",
        views.download_medical_document,
        name="medical_document",
    ),
]
