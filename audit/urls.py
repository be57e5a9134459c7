"""Routes of the audit app, included under /api/ by devlab.urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from audit import views

router = SimpleRouter()
router.register("audit/logs", views.AuditEntryViewSet, basename="audit-log")

urlpatterns: list = [
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
]
