"""gunicorn settings; every value can be overridden from the environment.

The access log is DevLab's own JSON request line (devlab.http), which knows the
request id, the user and the real client IP; gunicorn's would repeat it.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# gthread's event loop, not sync workers. A sync worker tells the master it is
# alive only between requests, so the master killed any request longer than
# `timeout`, streamed or not: an audit export of about 2 million rows never
# finished. DevLab's workers (devlab/gunicorn_worker.py) report every second
# while they serve, so `timeout` catches a worker that is stuck, not a request
# that is long, and take no new connection while busy with a long request, so
# a request does not queue behind an export in a busy worker while others idle.
# With one thread (the default) the request is served on the event loop's own
# thread (InlineWorker: no thread pool handoff, bench/README.md); with more,
# on gthread's pool.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = os.environ.get(
    "GUNICORN_WORKER_CLASS",
    "devlab.gunicorn_worker.InlineWorker" if threads == 1 else "devlab.gunicorn_worker.LongRequestAwareThreadWorker",
)
# Keep-alive: a client (or a proxy with upstream keep-alive) sends its next
# request on the same connection, saving a TCP handshake and an accept per
# request (bench/README.md). A worker holds up to this many connections, idle
# ones included. GUNICORN_WORKER_CONNECTIONS=GUNICORN_THREADS turns it off.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "32"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5" if worker_connections > threads else "0"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus multi-process mode (devlab/metrics.py): every worker writes its
# samples to files in this directory and /metrics adds them up. It must be set
# before a worker imports prometheus_client, i.e. here in the master. Left
# over files would add a previous run's counts, so it is emptied at start.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="devlab-metrics-")


def on_starting(server):
    """Empties the metrics directory of a previous run's files."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def post_worker_init(worker):
    """Takes what a worker holds for its whole life out of the garbage collector's rounds.

    Once Django, the app and its URLs are loaded, a worker tracks about 130,000
    objects that live as long as it does. Each full collection (about one per
    thousand requests) walked them all: 80 ms in one request, about 0.08 ms a
    request on average (bench/README.md). ``gc.freeze()`` moves them to a
    generation that is never collected; objects made by requests are collected
    as before.
    """
    import gc

    from django.apps import apps

    if apps.ready:  # the app is DevLab (tests serve others with this file)
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - imports the URLconf, its views and DRF now, not on the first request
    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    """A worker that exits (recycled, killed, timed out) no longer counts in live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Removes the metrics directory gunicorn made for itself (not one it was given)."""
    if _own_metrics_dir:
        import shutil

        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
