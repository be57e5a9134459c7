"""Counts the SQL queries of requests, in-process, on the benchmark's database.

Run by bench/run.py as ``python -m bench.queries`` with the run's environment;
reads a JSON list of ``{"name", "method", "path", "token", "body"}`` on stdin
and prints ``{"name": {"status": ..., "queries": ...}}``. The requests go
through the whole middleware stack with Django's test client, with the same
settings (throttles, cache, persistent connections) as the server under load.
"""

import json
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlab.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts = {}
    for spec in json.load(sys.stdin):
        headers = {"Accept": "application/json"}
        if spec.get("token"):
            headers["Authorization"] = f"Bearer {spec['token']}"
        kwargs = {"headers": headers}
        if spec.get("body") is not None:
            kwargs.update(data=json.dumps(spec["body"]), content_type="application/json")
        # The first request of a process opens the connection and warms caches;
        # count the second one, like a worker that has been serving for a while.
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = getattr(client, spec["method"].lower())(spec["path"], **kwargs)
        counts[spec["name"]] = {"status": response.status_code, "queries": len(captured.captured_queries)}
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
