"""ASGI entry point, for servers that speak ASGI."""

import os

from django.core.asgi import get_asgi_application

from devlab.charset import TextCharsetASGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlab.settings")

application = get_asgi_application()
# Ignores a charset that is no text encoding (devlab.charset), which Django's would decode the query string with.
application.request_class = TextCharsetASGIRequest
