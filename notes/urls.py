"""Routes of the notes app, included under /api/ by devlab.urls."""

from rest_framework.routers import SimpleRouter

from notes.views import NoteViewSet

router = SimpleRouter()
router.register("notes", NoteViewSet, basename="note")

urlpatterns: list = []
