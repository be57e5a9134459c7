"""The gunicorn worker ``gunicorn.conf.py`` runs: gthread with keep-alive that takes no new
connection while it is busy with a long request.

With keep-alive on, stock gthread accepts while it holds fewer than
``worker_connections`` connections, whatever its threads are doing. A worker
streaming a long export (minutes, on its one thread) would so take new
connections, one per request from nginx, and leave them waiting behind the
export while the other workers idle. Turning keep-alive off (a connection only
for a free thread, as sync workers do) avoided that but cost every request a
TCP handshake and an accept (bench/README.md), and taking new connections only
when a thread is free starved new clients of keep-alive ones (seconds of p99).
So this worker accepts as stock gthread does until one of its requests has been
in hand for ``LONG_REQUEST_SECONDS``, then stops accepting until that request
is done; the connections it holds stay alive. Only a client that reuses its
connection to that busy worker waits for it. And while its thread is busy it
lets idle workers go first for a new connection, so that connections opened
together spread over the workers instead of piling up in one. (Two threads per worker would
also serve beside an export, but with the event loop's thread that is three
threads per process contending for the GIL: about 15 % more CPU per request.)
"""

import time

from gunicorn.workers.gthread import ThreadWorker

#: A request in hand for longer than this (seconds) makes its worker stop accepting.
LONG_REQUEST_SECONDS = 1.0
#: How long a worker whose thread is busy lets idle workers go first for a new connection.
BUSY_ACCEPT_DELAY_SECONDS = 0.001


class LongRequestAwareThreadWorker(ThreadWorker):
    """gthread that takes no new connection while a request of its own is long in hand.

    ``enqueue_req``, ``finish_request``, ``set_accept_enabled`` and
    ``murder_pending`` all run on the worker's event-loop thread, which
    checks at least once a second: the bookkeeping needs no lock.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_hand: dict = {}  # connection -> when its request went to the thread pool

    def long_request_in_hand(self) -> bool:
        oldest = min(self.in_hand.values(), default=None)
        return oldest is not None and time.monotonic() - oldest > LONG_REQUEST_SECONDS

    def accept(self, listener):
        # Every worker's event loop wakes for a new connection; the one that
        # accepts first keeps it for as long as it is kept alive. A busy worker
        # lets idle ones go first, or one of a client's connections opened at
        # once (wrk, a proxy's pool) would pile up in whichever worker woke
        # first while the others idle. If nobody took it meanwhile, it does.
        if len(self.in_hand) >= self.cfg.threads:
            time.sleep(BUSY_ACCEPT_DELAY_SECONDS)
        super().accept(listener)  # a connection another worker took is EAGAIN, ignored

    def enqueue_req(self, conn):
        self.in_hand[conn] = time.monotonic()
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_hand.pop(conn, None)
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and not self.long_request_in_hand())

    def murder_pending(self):
        # Called on every turn of the event loop: the moment to notice that a
        # request has become long (the loop itself re-enables accepting).
        super().murder_pending()
        if self._accepting and self.long_request_in_hand():
            super().set_accept_enabled(False)
