"""Top-level routes: docs, the API routers of each app, admin and probes."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter

from accounts import urls as accounts_urls
from accounts.forms import LockoutAuthenticationForm
from audit import urls as audit_urls
from devlab.health import healthz, readyz
from devlab.metrics import metrics_view
from notes import urls as notes_urls

admin.site.site_header = "DevLab administration"
admin.site.site_title = "DevLab administration"
admin.site.index_title = "Administration"


class FaviconView(RedirectView):
    """Browsers ask every site for /favicon.ico; the admin declares none, so answer with the docs' icon."""

    def get_redirect_url(self, *args, **kwargs):
        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")


class ApiRootView(APIRootView):
    """The DevLab API. Authenticate with a bearer token from POST /api/auth/login/, or log in (top right)."""

    permission_classes = [AllowAny]


class ApiRouter(DefaultRouter):
    APIRootView = ApiRootView


api_router = ApiRouter()
for app_router in (notes_urls.router, audit_urls.router, accounts_urls.router):
    api_router.registry.extend(app_router.registry)

# Django tries the patterns in order on every request, so the API comes first and,
# within it, the router's routes (notes, the busiest) before the explicit paths.
# No two of them match the same path (tests/devlab/test_routes.py).
api_patterns = [
    *api_router.urls,
    *accounts_urls.urlpatterns,
    *notes_urls.urlpatterns,
    *audit_urls.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("", RedirectView.as_view(url="/docs", permanent=False)),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # DRF's login view, with the lockout form (logout and the rest come from DRF).
    path(
        "api-auth/login/",
        LoginView.as_view(template_name="accounts/api_login.html", authentication_form=LockoutAuthenticationForm),
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
    path("favicon.ico", FaviconView.as_view(permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
