"""URLs of signing in, the second-factor steps and the user's own account page."""

from django.urls import path

from auth2fa import views

app_name = "auth2fa"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("2fa/setup/", views.enrol, name="enrol"),
    path("2fa/setup/app/", views.enrol_totp, name="enrol_totp"),
    path("2fa/setup/sms/", views.enrol_sms, name="enrol_sms"),
    path("2fa/setup/key/", views.enrol_key, name="enrol_key"),
    path("2fa/recovery-code/", views.recovery_code, name="recovery_code"),
    path("2fa/verify/", views.verify, name="verify"),
    path("2fa/recover/", views.recover, name="recover"),
    path("2fa/confirm/", views.step_up, name="step_up"),
    path("password/", views.password_change, name="password_change"),
    path("account/", views.account, name="account"),
    path("account/change/", views.account_change, name="account_change"),
]
