"""Requests that ignore a ``charset`` which is no text encoding.

Django takes any charset ``codecs.lookup()`` knows as ``request.encoding``,
bytes-to-bytes codecs included (``zlib``, ``base64``, ``rot13``), and decodes
the query string with it while it builds the request: ``GET /?a=1`` with
``Content-Type: text/plain; charset=zlib`` raised ``LookupError`` before any
middleware ran (a 500 from the server, on every path). These request classes
ignore such a charset, as Django ignores an unknown one, so the request is read
as ``DEFAULT_CHARSET``; devlab/wsgi.py and devlab/asgi.py use them. (DRF's
parsers refuse such a charset in a body themselves, as 400.)
"""

from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest
from django.utils.http import parse_header_parameters


def is_text_encoding(name: str) -> bool:
    """Whether ``name`` is a codec Python knows that decodes bytes to text."""
    try:
        "".encode(name)  # unlike codecs.lookup(), refuses bytes-to-bytes codecs (as DRF's get_encoding does)
    except (LookupError, UnicodeError):
        return False
    return True


class _TextCharsetOnly:
    def _set_content_type_params(self, meta):
        """Django's, except that a charset must be a text encoding to become ``encoding``."""
        self.content_type, self.content_params = parse_header_parameters(meta.get("CONTENT_TYPE", ""))
        charset = self.content_params.get("charset")
        if charset is not None and is_text_encoding(charset):
            self.encoding = charset


class TextCharsetWSGIRequest(_TextCharsetOnly, WSGIRequest):
    """Django's WSGI request, ignoring a charset that is no text encoding."""


class TextCharsetASGIRequest(_TextCharsetOnly, ASGIRequest):
    """Django's ASGI request, ignoring a charset that is no text encoding."""
