"""WSGI entry point (gunicorn devlab.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlab.settings")

application = get_wsgi_application()
