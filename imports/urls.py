"""URLs of the employee import."""

from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("template.csv", views.template_csv, name="template_csv"),
    path("template.xlsx", views.template_xlsx, name="template_xlsx"),
    path("history/", views.history, name="history"),
    path("<uuid:key>/", views.preview, name="preview"),
    path("<uuid:key>/progress/", views.progress, name="progress"),
    path("<uuid:key>/refused.csv", views.refused_report, name="refused_report"),
]
