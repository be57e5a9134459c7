"""Routes of the audit app, included under /api/ by devlab.urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from audit import views

router = SimpleRouter()
router.register("audit/logs", views.AuditEntryViewSet, basename="audit-log")

urlpatterns: list = [
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
    path("audit/checkpoints/", views.CheckpointListView.as_view(), name="audit-checkpoints"),
    path("audit/checkpoints/latest/", views.LatestCheckpointView.as_view(), name="audit-checkpoint-latest"),
    path("audit/verifier-key/", views.VerifierKeyView.as_view(), name="audit-verifier-key"),
    path("audit/proofs/inclusion/", views.InclusionProofView.as_view(), name="audit-proof-inclusion"),
    path("audit/proofs/consistency/", views.ConsistencyProofView.as_view(), name="audit-proof-consistency"),
]
