"""The gunicorn workers ``gunicorn.conf.py`` runs: gthread's event loop with
keep-alive, which reports liveness while a request runs and takes no new
connection while it is busy with a long one.

``InlineWorker`` (one thread per worker, the default) serves each request on
the event loop's own thread; ``LongRequestAwareThreadWorker`` (more threads)
hands it to gthread's thread pool.

With keep-alive on, stock gthread accepts while it holds fewer than
``worker_connections`` connections, whatever its threads are doing. A worker
streaming a long export (minutes, on its one thread) would so take new
connections, one per request from nginx, and leave them waiting behind the
export while the other workers idle. Turning keep-alive off (a connection only
for a free thread, as sync workers do) avoided that but cost every request a
TCP handshake and an accept (bench/README.md), and taking new connections only
when a thread is free starved new clients of keep-alive ones (seconds of p99).
So ``LongRequestAwareThreadWorker`` accepts as stock gthread does until one of
its requests has been in hand for ``LONG_REQUEST_SECONDS``, then stops
accepting until that request is done; the connections it holds stay alive.
Only a client that reuses its connection to that busy worker waits. And while
its thread is busy it lets idle workers go first for a new connection, so that
connections opened together spread over the workers instead of piling up in
one. ``InlineWorker`` gets both for free: while it serves, its loop does not
poll, so it accepts nothing and the idle workers take the new connections.
"""

import errno
import selectors
import threading
import time
from collections import deque
from functools import partial

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, TConn, ThreadWorker

#: A request in hand for longer than this (seconds) makes its worker stop accepting.
LONG_REQUEST_SECONDS = 1.0
#: How long a worker whose thread is busy lets idle workers go first for a new connection.
BUSY_ACCEPT_DELAY_SECONDS = 0.001
#: How long (seconds) a worker waits for the request of a connection it has just taken.
FIRST_BYTES_SECONDS = 0.005
#: How often (seconds) a worker serving a request tells the master it is alive, as gthread's loop does.
HEARTBEAT_SECONDS = 1.0
#: The requests an InlineWorker serves on one kept-alive connection; the last is answered
#: ``Connection: close`` (nginx's ``keepalive_requests``), and the client's new connection
#: goes to whichever worker is idle.
REQUESTS_PER_CONNECTION = 100


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


class Returned:
    """A call that has returned, as ``ThreadWorker.finish_request`` reads a future."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def cancelled(self) -> bool:
        return False


class InlineWorker(ThreadWorker):
    """gthread's event loop, keep-alive and shutdown, serving each request on the loop's own thread.

    With one thread per worker, gthread's pool only carries each request from
    the loop thread to the pool thread and the result back: a future, a wake-up
    pipe and two thread switches per request, with the GIL changing hands each
    time (about 20 futex calls a request under load). Serving on the loop thread
    saves that (bench/README.md). What the pool gave is kept:

    - new connections are taken as many as are waiting (up to
      ``worker_connections``), each served as it is taken once its request has
      begun, given ``FIRST_BYTES_SECONDS`` for it: so the worker is busy while
      it takes one, the other workers take the next, and connections opened
      together spread over the workers (4 logins on 4 workers: 1:1:1:1). One
      per turn of the loop, as gthread accepts, was too few once a turn also
      serves every ready request: 64 connections opened at once on 2 workers
      waited seconds to be accepted. A connection whose request has not come
      waits in the poller (``DEFAULT_WORKER_DATA_TIMEOUT`` at most) and holds
      up no one, and taking stops there for this turn;
    - while a request is served, a heartbeat thread tells the master every
      ``HEARTBEAT_SECONDS`` that the worker is alive, as gthread's loop did, so
      a long export is not killed at ``timeout``; a loop stuck outside a
      request still is;
    - a worker busy serving does not poll, so it accepts nothing: new
      connections go to the idle workers, and only a client that reuses its
      kept-alive connection to the busy worker waits (as with one gthread thread).

    Pipelined requests (``finish_request`` finds the next one already read)
    are served one after the other by the same call, not by recursion.

    A kept-alive connection is closed after ``REQUESTS_PER_CONNECTION``
    requests. Without that, connections stayed where they were first taken: a
    worker that restarts (``max_requests``) drops its own, the others take them
    back, and the new worker gets none. Under 16 connections for 40 s the three
    workers came to hold 9, 6 and 1 connections, then 8, 8 and 0; with the
    quota they went back to about a third each within seconds of a restart.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # gthread keeps a connection slot for each thread's request; here the request
        # being served is one of the connections held, so every slot may be kept alive.
        self.max_keepalived = self.cfg.worker_connections
        self.serving = False
        self.ready: deque = deque()  # connections with a request to serve now

    @classmethod
    def check_config(cls, cfg, log):
        super().check_config(cfg, log)
        if cfg.threads > 1:
            log.warning("InlineWorker serves on one thread: threads=%s is ignored.", cfg.threads)

    def run(self):
        threading.Thread(target=self.heartbeat, name="heartbeat", daemon=True).start()
        super().run()

    def heartbeat(self):
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            self.beat()

    def beat(self):
        """One heartbeat: the loop notifies by itself unless a request keeps it busy."""
        if self.serving:
            self.notify()

    def accept(self, listener):
        """Takes the connections waiting to be accepted, while their requests have begun (class docstring)."""
        while self.alive and self.nr_conns < self.worker_connections:
            try:
                client_sock, client_addr = listener.accept()
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    raise
                return
            if not self.take(TConn(self.cfg, client_sock, client_addr, listener.getsockname())):  # non-blocking
                return

    def take(self, conn) -> bool:
        """Serves a new connection's request now if it has begun (True), else waits for it in the poller."""
        self.nr_conns += 1
        if not conn.wait_for_data(FIRST_BYTES_SECONDS):  # readable: its request has begun, or it closed
            conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT  # then murder_pending closes it
            self.pending_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))
            return False
        self.enqueue_req(conn)
        return True

    def handle_request(self, req, conn):
        """gthread's, but the connection's ``REQUESTS_PER_CONNECTION``-th request is its last."""
        conn.requests_served = getattr(conn, "requests_served", 0) + 1
        if conn.requests_served >= REQUESTS_PER_CONNECTION:
            req.must_close = True  # the response says Connection: close, and gthread closes it
        return super().handle_request(req, conn)

    def enqueue_req(self, conn):
        """Serves the connection's request now, on this thread."""
        self.ready.append(conn)
        if self.serving:
            return  # finish_request found a pipelined request: the loop below serves it next
        self.serving = True
        try:
            while self.ready:
                conn = self.ready.popleft()
                self.finish_request(conn, Returned(self.handle(conn)))
        finally:
            self.serving = False
