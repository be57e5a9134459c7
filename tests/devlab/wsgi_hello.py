"""A WSGI app of one line, for tests of the gunicorn workers on a live gunicorn."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
