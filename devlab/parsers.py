"""Request body parsers that refuse a body they cannot read (400), as the JSON parser does.

Django's multipart parser skips a part that names no field, so a body that is
not multipart at all, sent as ``multipart/form-data``, reads as an empty form:
a PATCH with it changed nothing and answered 200 (found by schemathesis).
Forms stay accepted for the browsable API, whose HTML forms post multipart.
"""

import io

from django.http.multipartparser import ChunkIter, LazyStream, MultiPartParserError, Parser, exhaust
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

_CHUNK_SIZE = 64 * 1024


def _every_part_names_a_field(body: bytes, boundary: bytes) -> bool:
    """Whether each part between the preamble and the epilogue has a ``Content-Disposition`` name
    (an empty one is still a field: JSON allows an empty key)."""
    parts = []
    for _item_type, meta, stream in Parser(LazyStream(ChunkIter(io.BytesIO(body), _CHUNK_SIZE)), boundary):
        disposition = meta.get("content-disposition")
        parts.append(bool(disposition) and "name" in disposition[1])
        exhaust(stream)
    return all(parts[1:-1])


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing a body with a part that names no field."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        boundary = parse_header_parameters(media_type or "")[1].get("boundary")
        if boundary:
            try:
                named = _every_part_names_a_field(body, boundary.encode("latin-1", "replace"))
            except MultiPartParserError as exc:  # e.g. a part's headers over Django's size limit
                raise ParseError(_("Multipart form parse error - %s") % exc) from None
            if not named:
                raise ParseError(_("Multipart form parse error - a part names no field."))
        return super().parse(io.BytesIO(body), media_type, parser_context)
