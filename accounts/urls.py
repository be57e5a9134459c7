"""Routes of the accounts app, included under /api/ by devlab.urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import views

router = SimpleRouter()
router.register("admin/users", views.UserAdminViewSet, basename="admin-user")

urlpatterns: list = [
    path("auth/signup/", views.SignupView.as_view(), name="auth-signup"),
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/login/mfa/", views.LoginSecondFactorView.as_view(), name="auth-login-mfa"),
    path("auth/mfa/totp/", views.TotpView.as_view(), name="auth-mfa-totp"),
    path("auth/mfa/totp/confirm/", views.TotpConfirmView.as_view(), name="auth-mfa-totp-confirm"),
    path("auth/refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/password-reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
]
