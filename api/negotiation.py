"""Content negotiation for endpoints whose success is not JSON (a file, a text): their errors stay JSON."""

from rest_framework.negotiation import DefaultContentNegotiation


class ErrorsAsJsonNegotiation(DefaultContentNegotiation):
    """Always the view's first renderer (JSON), whatever ``Accept`` or ``?format=`` says.

    The view writes its success response itself (an ``HttpResponse``); only
    errors go through the renderer. The audit export's ``?format=`` names the
    file type, not a renderer.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
