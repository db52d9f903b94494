from django.urls import path

from employees import views

app_name = "employees"
urlpatterns = [
    path("", views.employee_list, name="list"),
    path("<uuid:key>/", views.employee_detail, name="detail"),
]
