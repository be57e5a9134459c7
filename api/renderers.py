"""The API's JSON renderer: DRF's, with orjson doing the encoding.

DRF's ``JSONRenderer`` encodes with the standard library, about 55 µs for a
page of 20 notes, orjson in about 4 (``bench/README.md``). The bytes are
DRF's: compact, UTF-8, U+2028 and U+2029 escaped, and every value orjson
does not encode the same way (times, decimals, lazy translations, querysets,
generators) handed to DRF's encoder. What orjson refuses outright (an integer
beyond 64 bits, a key that is not a string) and indented output (the
browsable API, ``Accept: application/json; indent=4``) go to DRF's renderer.
Floats are where the two differ, and no field of this API holds one: a
non-finite float is written as ``null`` where DRF's strict encoder fails the
response, and a small one as ``1e-7`` where DRF writes ``1e-07`` (the same
number).
"""

import orjson
from rest_framework import renderers

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # DRF writes times its own way (milliseconds, "Z")
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        for separator, escaped in _LINE_SEPARATORS:
            if separator in content:
                content = content.replace(separator, escaped)
        return content
