"""Routes of the accounts app, included under /api/ by devlab.urls."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns: list = []
