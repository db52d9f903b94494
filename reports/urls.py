"""URLs of the management information."""

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.figures, name="figures"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
]
