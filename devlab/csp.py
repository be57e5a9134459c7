"""A strict Content-Security-Policy on every response (Django 5.2 has none built in).

Everything DevLab serves is its own: scripts and styles come from /static/
(Swagger UI and ReDoc from drf-spectacular-sidecar), Swagger UI's start-up
script is a separate file (``SpectacularSwaggerSplitView``) and the ReDoc page
has no inline script (devlab/templates/drf_spectacular/redoc.html). So scripts
are ``'self'`` only: no inline script, no ``eval``.

Styles are ``'self'`` too, except on the pages of third-party UIs that write
inline styles: Swagger UI and ReDoc (its styled-components inject ``<style>``
elements at run time) and DRF's browsable API and login page (``style=``
attributes in its templates). There ``style-src`` adds ``'unsafe-inline'``:
inline CSS cannot run script, and those pages escape what they show, so the
remaining risk (CSS used to read a page after an HTML injection) needs a bug
that the script policy already contains. The admin keeps ``style-src 'self'``.
"""

from django.conf import settings

HEADER = "Content-Security-Policy"


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds ``CONTENT_SECURITY_POLICY``; paths under ``CSP_INLINE_STYLE_PATHS`` also allow inline styles."""

    def __init__(self, get_response):
        self.get_response = get_response
        directives = settings.CONTENT_SECURITY_POLICY
        self.strict = _policy(directives)
        self.inline_styles = _policy({**directives, "style-src": f"{directives['style-src']} 'unsafe-inline'"})
        self.inline_style_paths = tuple(settings.CSP_INLINE_STYLE_PATHS)

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER not in response:
            inline = request.path.startswith(self.inline_style_paths)
            response[HEADER] = self.inline_styles if inline else self.strict
        return response
