"""gunicorn settings; every value can be overridden from the environment.

The access log is DevLab's own JSON request line (devlab.http), which knows the
request id, the user and the real client IP; gunicorn's would repeat it.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# gthread, not sync. A sync worker tells the master it is alive only between
# requests, so the master killed any request longer than `timeout`, streamed
# or not: an audit export of about 2 million rows never finished. A gthread
# worker's main loop reports every second while its threads serve requests,
# so `timeout` now catches a worker that is stuck, not a request that is long.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A worker takes a connection only when one of its threads is free, as a sync
# worker does: otherwise a worker busy with a long export would accept further
# requests and make them wait behind it while other workers idle. (So no
# keep-alive by default, as with sync workers; raise both to allow it.)
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", threads))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5" if worker_connections > threads else "0"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
