"""URLs of the audit exports: request, approve, download."""

from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("exports/", views.export_list, name="export_list"),
    path("exports/<uuid:key>/", views.export_detail, name="export_detail"),
    path("exports/<uuid:key>/decide/", views.export_decide, name="export_decide"),
    path(
        "exports/<uuid:key>/download.<str:extension>", views.export_download, name="export_download"
    ),
]
