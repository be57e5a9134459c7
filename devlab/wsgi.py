"""WSGI entry point (gunicorn devlab.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from devlab.charset import TextCharsetWSGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlab.settings")

application = get_wsgi_application()
# Ignores a charset that is no text encoding (devlab.charset), which Django's would decode the query string with.
application.request_class = TextCharsetWSGIRequest
