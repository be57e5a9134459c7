"""Request body parsers that refuse a body they cannot read (400), never a 500.

Django's multipart parser skips a part that names no field, so a body that is
not multipart at all, sent as ``multipart/form-data``, reads as an empty form:
a PATCH with it changed nothing and answered 200 (found by schemathesis).
Forms stay accepted for the browsable API, whose HTML forms post multipart.

The JSON parser also refuses what DRF's lets through to a 500 or reads
ambiguously: nesting deeper than Python's recursion limit (``RecursionError``)
and an object naming one key twice (``json`` keeps the last, another reader
the first: refused, as I-JSON, RFC 7493, requires). NaN and Infinity are
refused by DRF's strict mode already. Django's own refusals (too many fields
or files) are mapped to 400 by ``devlab.errors``.

A charset that is no text encoding is ignored by the request itself
(``devlab.charset``); DRF's parsers refuse one too.
"""

import codecs
import io

from django.http.multipartparser import ChunkIter, LazyStream, MultiPartParserError, Parser, exhaust
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

_CHUNK_SIZE = 64 * 1024


def _closes_its_last_part(body: bytes, boundary: bytes) -> bool:
    """Whether the closing delimiter (``--boundary--``) starts a line of the body.

    Django reads a body cut short, or one whose parts use another boundary, as
    if it were whole: the cut part reads as a nameless part, or the other
    boundary's parts as the text of a field (a note saved the raw body: 201).
    """
    closing = b"--" + boundary + b"--"
    return body.startswith(closing) or b"\r\n" + closing in body


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
    """DRF's multipart parser, refusing a body with a part that names no field or that is not closed."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        boundary = parse_header_parameters(media_type or "")[1].get("boundary")
        if boundary:
            boundary_bytes = boundary.encode("latin-1", "replace")
            if not _closes_its_last_part(body, boundary_bytes):
                raise ParseError(_("Multipart form parse error - the body does not close its last part."))
            try:
                named = _every_part_names_a_field(body, boundary_bytes)
            except MultiPartParserError as exc:  # e.g. a part's headers over Django's size limit
                raise ParseError(_("Multipart form parse error - %s") % exc) from None
            if not named:
                raise ParseError(_("Multipart form parse error - a part names no field."))
        return super().parse(io.BytesIO(body), media_type, parser_context)


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser, refusing duplicate keys and nesting too deep to read, as 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return json.load(
                codecs.getreader(encoding)(stream),
                parse_constant=json.strict_constant if self.strict else None,
                object_pairs_hook=_refuse_duplicate_keys,
            )
        except _DuplicateKey:
            raise ParseError(_("JSON parse error - an object names the same key twice.")) from None
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
        except ValueError as exc:  # also UnicodeDecodeError and too many digits in a number
            raise ParseError(_("JSON parse error - %s") % exc) from None
