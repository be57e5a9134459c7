"""The shared DRF toolkit every app imports, and nothing domain-specific.

One keyset paginator (``pagination``), the OpenAPI error responses
(``schema``), the exception handler and the API exceptions
(``exception_handlers``, ``exceptions``), the request parsers (``parsers``),
the filter base (``filters``), the throttles (``throttling``), error-only
content negotiation (``negotiation``) and how JSON writes a time
(``jsontime``). The project package (``devlab``) wires them in through
``REST_FRAMEWORK`` in its settings; apps import them from here.
"""
